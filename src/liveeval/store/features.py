"""Per-interaction drift features (lengths, input language, intent), written by the evaluator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from liveeval.store.dialect import bulk_insert, clip, db_time, string_widths
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


_COLUMNS = (
    "interaction_id",
    "project",
    "start_at",
    "input_chars",
    "output_chars",
    "language",
    "intent",
)
_WIDTHS = string_widths(interaction_features, _COLUMNS)


def write_features(conn: sa.Connection, batch: Sequence[Features]) -> None:
    """Insert or replace the features of each interaction (a re-evaluation replaces them)."""
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
    # A replaced row takes a new feature_id, so the rollup job sees the change.
    ids = [f.interaction_id for f in batch]
    if ids:
        conn.execute(
            interaction_features.delete().where(interaction_features.c.interaction_id.in_(ids))
        )
    bulk_insert(conn, interaction_features, _COLUMNS, rows, unique=("interaction_id",))


def features_of(conn: sa.Connection, interaction_id: int) -> Features | None:
    row = (
        conn.execute(
            sa.select(*(interaction_features.c[c] for c in _COLUMNS)).where(
                interaction_features.c.interaction_id == interaction_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else Features(**row)
