"""A small factory for Interactions under test: only what a check reads needs saying."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from liveeval.model import Interaction, Message, RetrievedDocument
from tests.conftest import DATASETS

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def interaction(
    question: str | None = None,
    answer: str | None = None,
    *,
    documents: tuple[str, ...] | dict[str, str] = (),
    route: str | None = None,
    **fields: Any,
) -> Interaction:
    """A chat interaction: `question` as the user message, `answer` as the output text.

    `documents` become the retrieved context: a tuple of contents (no ids) or a
    mapping id → content.
    """
    if isinstance(documents, dict):
        context = tuple(
            RetrievedDocument(content, id=doc_id) for doc_id, content in documents.items()
        )
    else:
        context = tuple(RetrievedDocument(content) for content in documents)
    messages = (Message("system", "You are a helpful assistant."),)
    if question is not None:
        messages += (Message("user", question),)
    values: dict[str, Any] = {
        "project": "test",
        "trace_id": "0" * 32,
        "span_id": "0" * 16,
        "parent_span_id": None,
        "name": "chat",
        "convention": "genai",
        "operation": "chat",
        "start_at": AT,
        "end_at": AT,
        "latency_ms": 10.0,
        "status": "ok",
        "input_messages": messages,
        "output_text": answer,
        "retrieved_context": context,
        "route": route,
    }
    values.update(fields)
    return Interaction(**values)


# The 16 languages of the shared multilingual dataset, one file each.
DATASET_LANGUAGES = sorted(p.stem for p in (DATASETS / "languages").glob("*.txt"))


def sentences(language: str, count: int, start: int = 0) -> list[str]:
    """Real sentences in `language` from the shared datasets (Leipzig corpora)."""
    path = DATASETS / "languages" / f"{language}.txt"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line][start : start + count]
