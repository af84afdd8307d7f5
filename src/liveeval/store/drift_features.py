"""Read a time range's drift features as columns (numpy), and sampled input texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa

from liveeval.store.schema import interaction_features, interactions

NUMERIC = ("input_chars", "output_chars", "input_tokens", "output_tokens", "latency_ms", "cost_usd")
CATEGORICAL = (
    "language",
    "intent",
    "model_requested",
    "model_served",
    "prompt_version",
    "route",
    "segment",
)
_FROM_FEATURES = {"input_chars", "output_chars", "language", "intent"}


@dataclass
class FeatureColumns:
    ids: np.ndarray  # interaction ids, int64
    numeric: dict[str, np.ndarray]  # float64, NaN where unknown
    categorical: dict[str, np.ndarray]  # object arrays, None where unknown

    def where(self, mask: np.ndarray) -> FeatureColumns:
        return FeatureColumns(
            self.ids[mask],
            {k: v[mask] for k, v in self.numeric.items()},
            {k: v[mask] for k, v in self.categorical.items()},
        )

    def __len__(self) -> int:
        return len(self.ids)


def feature_column(name: str) -> sa.ColumnElement[object]:
    table = interaction_features if name in _FROM_FEATURES else interactions
    return table.c[name]


def period_filter(project: str, start: datetime, end: datetime) -> list[sa.ColumnElement[bool]]:
    """The interactions of `project` that started in [start, end)."""
    return [
        interactions.c.project == project,
        interactions.c.start_at >= start,
        interactions.c.start_at < end,
    ]


def read_feature_columns(
    conn: sa.Connection,
    project: str,
    start: datetime,
    end: datetime,
    attributes: Sequence[str] = (),
) -> FeatureColumns:
    """Every interaction of [start, end) with its features (lengths and language come from
    the evaluator; an interaction it has not seen yet has them unknown)."""
    columns = [feature_column(n) for n in (*NUMERIC, *CATEGORICAL)]
    extra = [interactions.c.metadata[a].as_string().label(f"attr:{a}") for a in attributes]
    query = (
        sa.select(interactions.c.interaction_id, *columns, *extra)
        .select_from(interactions.outerjoin(interaction_features))
        .where(*period_filter(project, start, end))
    )
    rows = conn.execute(query).all()
    width = 1 + len(NUMERIC) + len(CATEGORICAL) + len(attributes)
    table = np.array(rows, dtype=object).reshape(len(rows), width)
    numeric = {
        name: np.array([np.nan if v is None else v for v in table[:, 1 + i]], dtype=np.float64)
        for i, name in enumerate(NUMERIC)
    }
    offset = 1 + len(NUMERIC)
    names = [*CATEGORICAL, *attributes]
    categorical = {name: table[:, offset + i] for i, name in enumerate(names)}
    return FeatureColumns(table[:, 0].astype(np.int64), numeric, categorical)


def read_input_texts(conn: sa.Connection, ids: Sequence[int]) -> dict[int, str]:
    """The inputs of `ids`: the input text, else the last user message."""
    out: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = [int(i) for i in ids[start : start + 500]]
        query = sa.select(
            interactions.c.interaction_id, interactions.c.input_text, interactions.c.input_messages
        ).where(interactions.c.interaction_id.in_(chunk))
        for iid, text, messages in conn.execute(query):
            out[iid] = text or _last_user_message(messages) or ""
    return out


def _last_user_message(messages: object) -> str | None:
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("user", "human"):
            content = message.get("content")
            if isinstance(content, str):
                return content
    return None
