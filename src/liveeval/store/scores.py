"""Scores: written in bulk at ingest (checks, span events), one by one by judges and people.

A score written again under the same key replaces the earlier one. A check's key is its
interaction and name: a check re-run on a re-assembled interaction replaces the one
stored. Every other score's key is its `dedup_key`, if it has one: a re-sent span event
or REST post with the same idempotency key; judge scores are keyed by their job, so a
retried job never scores twice. The dedup_key a check is written with is kept too,
except the usual `check:<interaction_id>:<name>`, which is not stored but read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.store.dialect import bulk_insert, clip, db_json, db_time, string_widths
from liveeval.store.schema import CHECK, KEYED, interactions, scores

COLUMNS = (
    "project",
    "interaction_id",
    "name",
    "kind",
    "value",
    "label",
    "explanation",
    "status",
    "error",
    "evaluator_version",
    "details",
    "cost_usd",
    "latency_ms",
    "author",
    "dedup_key",
    "created_at",
)
WIDTHS = string_widths(scores, COLUMNS)
REPLACED = tuple(c for c in COLUMNS if c not in ("project", "dedup_key"))
CHECK_REPLACED = tuple(c for c in COLUMNS if c not in ("project", "interaction_id", "name"))


def check_key(interaction_id: int | None, name: str) -> str:
    """The key a check score is written and read back under."""
    return f"check:{interaction_id}:{name}"


def write_scores(conn: sa.Connection, batch: Sequence[Score], dedup_keys: Sequence[str]) -> None:
    """Insert scores; one whose key is stored replaces the stored one (the module's
    docstring says what a key is). A key given twice in `batch` is written once, as its
    last score."""
    as_time = db_time(conn)
    checks: dict[tuple[int | None, str], tuple[Any, ...]] = {}
    keyed: dict[tuple[str, str], tuple[Any, ...]] = {}
    for score, key in zip(batch, dedup_keys, strict=True):
        if score.kind == ScoreKind.CHECK:
            stored_key = None if key == check_key(score.interaction_id, score.name) else key
            row = clip(_row(score, stored_key, as_time), WIDTHS)
            checks[(score.interaction_id, score.name)] = row
        else:
            keyed[(score.project, key)] = clip(_row(score, key, as_time), WIDTHS)
    by_check, by_key = ("interaction_id", "name"), ("project", "dedup_key")
    _upsert(conn, [*checks.values()], by_check, CHECK_REPLACED, CHECK)
    _upsert(conn, [*keyed.values()], by_key, REPLACED, KEYED)


def _upsert(
    conn: sa.Connection,
    rows: list[tuple[Any, ...]],
    unique: tuple[str, ...],
    replaced: tuple[str, ...],
    where: str,
) -> None:
    bulk_insert(conn, scores, COLUMNS, rows, unique, replaced, where=where, as_arrays=True)


def insert_score(conn: sa.Connection, score: Score, dedup_key: str | None) -> tuple[int, bool]:
    """Insert one score and return (score_id, created). A taken dedup_key returns the
    stored score's id, unchanged: the way a retried request is answered."""
    if dedup_key is not None:
        existing = conn.execute(
            sa.select(scores.c.score_id).where(
                scores.c.project == score.project, scores.c.dedup_key == dedup_key
            )
        ).scalar()
        if existing is not None:
            return existing, False
    row = dict(zip(COLUMNS, clip(_row(score, dedup_key, lambda t: t), WIDTHS), strict=True))
    row["details"] = score.details
    score_id = conn.execute(scores.insert().values(**row).returning(scores.c.score_id)).scalar_one()
    return score_id, True


def _row(score: Score, dedup_key: str | None, as_time: Any) -> tuple[Any, ...]:
    if score.created_at is None:
        raise ValueError("a score needs created_at")
    return (
        score.project,
        score.interaction_id,
        score.name,
        str(score.kind),
        score.value,
        score.label,
        score.explanation,
        str(score.status),
        score.error,
        score.evaluator_version,
        db_json(score.details),
        score.cost_usd,
        score.latency_ms,
        score.author,
        dedup_key,
        as_time(score.created_at),
    )


@dataclass(frozen=True, slots=True)
class ScoreFilter:
    project: str
    name: str | None = None
    kind: ScoreKind | None = None
    status: ScoreStatus | None = None
    interaction_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_scores(
    conn: sa.Connection, f: ScoreFilter, *, limit: int, after: int | None = None
) -> list[Score]:
    """Newest first; `after` is the score_id of the last score already seen."""
    c = scores.c
    where: list[sa.ColumnElement[bool]] = [c.project == f.project]
    for column, value in (
        (c.name, f.name),
        (c.kind, f.kind),
        (c.status, f.status),
        (c.interaction_id, f.interaction_id),
    ):
        if value is not None:
            where.append(column == value)
    if f.since is not None:
        where.append(c.created_at >= f.since)
    if f.until is not None:
        where.append(c.created_at < f.until)
    if after is not None:
        where.append(c.score_id < after)
    query = sa.select(scores).where(*where).order_by(c.score_id.desc()).limit(limit)
    return [score_from_row(row) for row in conn.execute(query).mappings()]


def scores_of(conn: sa.Connection, interaction_ids: Sequence[int]) -> list[Score]:
    if not interaction_ids:
        return []
    query = (
        sa.select(scores)
        .where(scores.c.interaction_id.in_(list(interaction_ids)))
        .order_by(scores.c.kind, scores.c.name, scores.c.score_id)
    )
    return [score_from_row(row) for row in conn.execute(query).mappings()]


def interaction_ids_by_span(
    conn: sa.Connection, project: str, trace_ids: Sequence[str]
) -> dict[tuple[str, str], int]:
    """(trace_id, span_id) → interaction_id for every interaction of the given traces."""
    if not trace_ids:
        return {}
    c = interactions.c
    query = sa.select(c.trace_id, c.span_id, c.interaction_id).where(
        c.project == project, c.trace_id.in_(list(trace_ids))
    )
    return {(trace_id, span_id): iid for trace_id, span_id, iid in conn.execute(query)}


def score_from_row(row: sa.RowMapping) -> Score:
    return Score(
        score_id=row["score_id"],
        project=row["project"],
        interaction_id=row["interaction_id"],
        name=row["name"],
        kind=ScoreKind(row["kind"]),
        value=row["value"],
        label=row["label"],
        explanation=row["explanation"],
        status=ScoreStatus(row["status"]),
        error=row["error"],
        evaluator_version=row["evaluator_version"],
        details=row["details"],
        cost_usd=row["cost_usd"],
        latency_ms=row["latency_ms"],
        author=row["author"],
        idempotency_key=(
            check_key(row["interaction_id"], row["name"])
            if row["dedup_key"] is None and row["kind"] == ScoreKind.CHECK
            else row["dedup_key"]
        ),
        created_at=row["created_at"],
    )
