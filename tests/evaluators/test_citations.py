from __future__ import annotations

import pytest

from liveeval.evaluators.citations import DocumentIndex, read_citations, strip_citations
from liveeval.model import RetrievedDocument

DOCS = (
    RetrievedDocument("Refunds within 30 days.", id="policy-1"),
    RetrievedDocument("Shipping is free over $50.", id="kb_17"),
    RetrievedDocument("Support hours are 9 to 5.", id="faq"),
)


def refs(text: str, numeric: str = "position") -> dict[str, int | None]:
    citations, _ = read_citations(text, DocumentIndex(DOCS, numeric))  # type: ignore[arg-type]
    return {c.ref: c.document for c in citations}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Refunds take 30 days [1].", {"1": 0}),
        ("See [1][3] and [2, 3].", {"1": 0, "3": 2, "2": 1}),
        ("Covered in [1-3].", {"1": 0, "2": 1, "3": 2}),
        ("A footnote[^2] here.", {"2": 1}),
        ("Per [policy-1] and [KB_17].", {"policy-1": 0, "KB_17": 1}),
        ("As the FAQ says [faq].", {"faq": 2}),
        ("Named [Source 2] and [doc 3].", {"2": 1, "3": 2}),
        ("Free shipping (source: kb_17).", {"kb_17": 1}),
        ("Both (sources: policy-1, faq).", {"policy-1": 0, "faq": 2}),
        (
            "Missing [4] and [doc-9] and (source: handbook).",
            {"4": None, "doc-9": None, "handbook": None},
        ),
    ],
)
def test_citation_forms_resolve_to_documents(text: str, expected: dict[str, int | None]) -> None:
    assert refs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Read [the docs](https://example.com/docs).",
        "He said [sic] it was fine.",
        "- [x] done\n- [ ] todo",
        "Use items[0] in Python.",
        "In [2024] sales grew.",
        "[see above] for details.",
    ],
)
def test_brackets_that_are_not_citations_are_ignored(text: str) -> None:
    assert refs(text) == {}


def test_numbers_are_ids_when_told_so() -> None:
    numbered = (RetrievedDocument("a", id="7"), RetrievedDocument("b", id="8"))
    citations, _ = read_citations("See [7] and [1].", DocumentIndex(numbered, "id"))
    assert {c.ref: c.document for c in citations} == {"7": 0, "1": None}


def test_markers_are_removed_from_the_prose() -> None:
    _, prose = read_citations(
        "Refunds take 30 days [1]. Free (source: kb_17).", DocumentIndex(DOCS, "position")
    )
    assert "[" not in prose and "source" not in prose
    assert strip_citations("Refunds [2] take (source: x) days.") == "Refunds   take   days."
