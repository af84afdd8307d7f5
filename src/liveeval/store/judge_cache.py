"""Judge answers by the exact question asked: the same question is never paid for twice."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from liveeval.store.dialect import insert_ignoring_duplicates
from liveeval.store.schema import judge_cache


@dataclass(frozen=True, slots=True)
class CachedVerdict:
    value: float | None
    label: str | None
    explanation: str | None
    model_reported: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    created_at: datetime


def find_cached(conn: sa.Connection, keys: Collection[str]) -> dict[str, CachedVerdict]:
    """The cached verdicts among `keys`."""
    if not keys:
        return {}
    c = judge_cache.c
    rows = conn.execute(sa.select(judge_cache).where(c.cache_key.in_(list(keys)))).mappings()
    return {row["cache_key"]: _verdict(row) for row in rows}


def _verdict(row: sa.RowMapping) -> CachedVerdict:
    return CachedVerdict(
        value=row["value"],
        label=row["label"],
        explanation=row["explanation"],
        model_reported=row["model_reported"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cost_usd=row["cost_usd"],
        created_at=row["created_at"],
    )


def remember(conn: sa.Connection, key: str, verdict: CachedVerdict) -> None:
    statement = insert_ignoring_duplicates(conn, judge_cache, ["cache_key"])
    conn.execute(
        statement.values(
            cache_key=key,
            value=verdict.value,
            label=verdict.label,
            explanation=verdict.explanation,
            model_reported=verdict.model_reported,
            input_tokens=verdict.input_tokens,
            output_tokens=verdict.output_tokens,
            cost_usd=verdict.cost_usd,
            created_at=verdict.created_at,
        )
    )
