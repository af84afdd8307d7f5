"""Citation markers in an output and the retrieved documents they point at.

Recognized: bracketed references (`[1]`, `[1, 3]`, `[2-4]`, `[^2]`, `[doc-7]`,
`[Source 2]`) and parenthesized sources (`(source: kb-12)`, `(sources: a, b)`).
A reference resolves when it equals a document's id (also ignoring case) or,
for a number n, when it is the n-th document (`numeric="position"`). In
brackets, a word without digits counts only when it names a document, so
"[sic]" or "[x]" are not citations; markdown links `[text](url)` are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from liveeval.model import RetrievedDocument

Numbering = Literal["position", "id"]

BRACKET = re.compile(r"(?:(?<![\w\[])\[\^?|\[\^)([^\[\]\n]{1,80})\](?![(:])")
PAREN = re.compile(
    r"\((?:sources?|src|refs?|references?|citations?|docs?|documents?)\s*:\s*([^()\n]{1,200})\)",
    re.IGNORECASE,
)
_PREFIX = re.compile(
    r"^(?:sources?|src|refs?|references?|citations?|docs?|documents?|passages?)"
    r"(?:\s*[:#]\s*|\s+|(?=\d))",
    re.IGNORECASE,
)
_RANGE = re.compile(r"(\d{1,3})\s*[-–]\s*(\d{1,3})")
_SEPARATORS = re.compile(r"[,;]")
MAX_NUMBER = 999  # a bigger bracketed number ("[2024]") is not a citation


@dataclass(frozen=True, slots=True)
class Citation:
    ref: str  # the reference as written, without brackets or "source:"
    document: int | None  # index into retrieved_context, None when it points nowhere


class DocumentIndex:
    """The retrieved documents, looked up by id or by position."""

    def __init__(self, documents: Sequence[RetrievedDocument], numeric: Numbering) -> None:
        self.count = len(documents)
        self.numeric = numeric
        self.ids: dict[str, int] = {}
        for position, document in enumerate(documents):
            if document.id:
                self.ids.setdefault(document.id, position)
                self.ids.setdefault(document.id.casefold(), position)

    def find(self, ref: str) -> int | None:
        found = self.ids.get(ref)
        if found is None:
            found = self.ids.get(ref.casefold())
        if found is None and self.numeric == "position" and ref.isdigit():
            number = int(ref)
            if 1 <= number <= self.count:
                found = number - 1
        return found


def _looks_like_id(ref: str) -> bool:
    return " " not in ref and any(c.isdigit() for c in ref)


def _parts(inner: str) -> list[str]:
    return [part.strip().lstrip("^#").strip() for part in _SEPARATORS.split(inner)]


def _bracket_refs(inner: str, index: DocumentIndex) -> list[str]:
    refs: list[str] = []
    for part in _parts(inner):
        if not part:
            continue
        if index.find(part) is not None:
            refs.append(part)
            continue
        bare = _PREFIX.sub("", part)
        span = _RANGE.fullmatch(bare)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if low <= high <= low + 50:
                refs.extend(str(n) for n in range(low, high + 1))
        elif bare.isdigit():
            if int(bare) <= MAX_NUMBER:
                refs.append(bare)
        elif _looks_like_id(bare) or index.find(bare) is not None:
            refs.append(bare)
    return refs


def read_citations(text: str, index: DocumentIndex) -> tuple[list[Citation], str]:
    """Every citation in `text` (in order, each once), and `text` without the markers."""
    refs: list[str] = []

    def bracket(match: re.Match[str]) -> str:
        refs.extend(_bracket_refs(match.group(1), index))
        return " "

    def paren(match: re.Match[str]) -> str:
        refs.extend(part for part in _parts(match.group(1)) if part)
        return " "

    if "[" in text:
        text = BRACKET.sub(bracket, text)
    if "(" in text:
        text = PAREN.sub(paren, text)
    seen: dict[str, Citation] = {}
    for ref in refs:
        if ref not in seen:
            found = index.find(ref)
            if found is None:
                found = index.find(_PREFIX.sub("", ref))
            seen[ref] = Citation(ref, found)
    return list(seen.values()), text


def strip_citations(text: str) -> str:
    """`text` without citation markers, for reading its words."""
    if "[" in text:
        text = BRACKET.sub(" ", text)
    if "(" in text:
        text = PAREN.sub(" ", text)
    return text
