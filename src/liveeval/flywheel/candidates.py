"""Candidate files: review items written out as JSONL for a person to complete by
hand (expected behaviour, grader), then read back and promoted.

A candidate line names its review item; `input`, `expected`, `grader` and `tags`
are what the case will hold; `failure`, `reasons` and `output` are there to read
and are ignored on import. A line still without a grader is skipped and reported,
so a half-finished file can be imported more than once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from liveeval.flywheel.case_file import CaseFileError, describe
from liveeval.flywheel.golden import CaseConflictError
from liveeval.flywheel.review import (
    ReviewError,
    UnknownItemError,
    item_or_error,
    promote,
    triage,
    write_expected,
)
from liveeval.model.case import CASE_ID_PATTERN
from liveeval.model.review import ReviewItem, ReviewState


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_item: int
    id: str | None = Field(default=None, pattern=CASE_ID_PATTERN)
    failure: str | None = None
    reasons: list[dict[str, Any]] = []
    input: dict[str, Any]
    output: str | None = None
    expected: dict[str, Any] | None = None
    grader: dict[str, Any] | None = None
    tags: list[str] = []


def candidate_line(item: ReviewItem) -> bytes:
    document = {
        "review_item": item.item_id,
        "id": item.case_id or f"review-{item.item_id}",
        "failure": item.failure,
        "reasons": [r.to_json() for r in item.reasons],
        "input": item.input,
        "output": item.output_text,
        "expected": item.expected or {"output": None, "behaviour": None},
        "grader": item.grader,
        "tags": item.tags,
    }
    return orjson.dumps(document) + b"\n"


def parse_candidates(lines: Iterable[bytes], name: str) -> list[tuple[str, Candidate]]:
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            out.append((where, Candidate.model_validate_json(line)))
        except ValidationError as exc:
            raise CaseFileError(f"{where}: {describe(exc)}") from None
    return out


@dataclass(slots=True)
class CandidateImport:
    promoted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def import_candidates(
    conn: sa.Connection,
    project: str,
    candidates: list[tuple[str, Candidate]],
    actor: str,
    at: datetime,
) -> CandidateImport:
    """Promote every completed candidate; the caller's transaction makes it all or nothing."""
    result = CandidateImport()
    for where, candidate in candidates:
        if candidate.grader is None:
            result.skipped.append(f"{where}: review item {candidate.review_item}: no grader yet")
            continue
        try:
            result.promoted.append(_promote(conn, project, candidate, actor, at))
        except (ReviewError, UnknownItemError, CaseConflictError) as exc:
            raise CaseFileError(f"{where}: {exc}") from None
    return result


def _promote(
    conn: sa.Connection, project: str, candidate: Candidate, actor: str, at: datetime
) -> str:
    current = item_or_error(conn, candidate.review_item, project)
    if candidate.input != current.input:
        raise ReviewError(
            "`input` differs from the review item's: inputs come from production and are "
            "kept as they were scrubbed"
        )
    expected = {k: v for k, v in (candidate.expected or {}).items() if v is not None}
    assert candidate.grader is not None  # lines without one are skipped before
    item = write_expected(
        conn,
        candidate.review_item,
        expected,
        candidate.grader,
        actor,
        at,
        tags=candidate.tags,
        project=project,
    )
    if item.state != ReviewState.REAL_FAILURE:
        triage(conn, candidate.review_item, ReviewState.REAL_FAILURE, actor, at)
    _, case = promote(conn, candidate.review_item, actor, at, case_id=candidate.id)
    return case.id
