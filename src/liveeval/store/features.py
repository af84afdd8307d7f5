"""Per-interaction drift features (lengths, input language, intent), written by the evaluator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from liveeval.store.dialect import clip, column_arrays, db_time, string_widths, unnest_select
from liveeval.store.schema import interaction_features


@dataclass(frozen=True, slots=True)
class Features:
    interaction_id: int
    project: str
    start_at: datetime
    input_chars: int
    output_chars: int
    language: str | None
    intent: str | None = None


COLUMNS = (
    "interaction_id",
    "project",
    "start_at",
    "input_chars",
    "output_chars",
    "language",
    "intent",
)
_WIDTHS = string_widths(interaction_features, COLUMNS)


def write_features(conn: sa.Connection, batch: Sequence[Features]) -> None:
    """Insert or replace the features of each interaction (a re-evaluation replaces them).

    A replaced row takes a new feature_id, so the rollup job sees the change: SQLite's
    REPLACE deletes the old row and inserts one under a new AUTOINCREMENT id; PostgreSQL's
    upsert draws the new id from the column's sequence. One statement either way, where
    a DELETE of the batch's ids and an INSERT were two (the DELETE finding nothing but
    for a re-evaluation); PostgreSQL takes the batch as arrays (dialect.unnest_select).
    """
    if not batch:
        return
    as_time = db_time(conn)
    rows = [
        clip(
            (
                f.interaction_id,
                f.project,
                as_time(f.start_at),
                f.input_chars,
                f.output_chars,
                f.language,
                f.intent,
            ),
            _WIDTHS,
        )
        for f in batch
    ]
    # One row per interaction, the first winning (a PostgreSQL upsert may not touch a
    # row twice in one statement).
    first: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        first.setdefault(row[0], row)
    unique = list(first.values())
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_REPLACE, unique)
        return
    conn.exec_driver_sql(_upsert_sql(), tuple(column_arrays(interaction_features, COLUMNS, unique)))


_REPLACE = (
    f"REPLACE INTO interaction_features ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)


@lru_cache(maxsize=1)
def _upsert_sql() -> str:
    updated = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "interaction_id")
    return (
        f"INSERT INTO interaction_features ({', '.join(COLUMNS)}) "
        f"{unnest_select(interaction_features, COLUMNS)} "
        "ON CONFLICT (interaction_id) DO UPDATE SET "
        "feature_id = nextval(pg_get_serial_sequence('interaction_features', 'feature_id')), "
        f"{updated}"
    )


def features_of(conn: sa.Connection, interaction_id: int) -> Features | None:
    row = (
        conn.execute(
            sa.select(*(interaction_features.c[c] for c in COLUMNS)).where(
                interaction_features.c.interaction_id == interaction_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Features(**row)
