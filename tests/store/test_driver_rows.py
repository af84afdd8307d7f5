"""Rows read through the driver decode as SQLAlchemy's column types would."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import sqlalchemy as sa

from liveeval.store.database import Store
from liveeval.store.driver_rows import columns_of, fetch_all
from liveeval.store.schema import interactions


def test_each_column_reads_as_sqlalchemy_reads_it(store: Store) -> None:
    at = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    with store.writing() as conn:
        conn.execute(
            interactions.insert().values(
                project="p", trace_id="t", span_id="s", name="chat", convention="genai",
                start_at=at, end_at=at, latency_ms=1.5, status="ok", received_at=at,
                metadata={"nested": [1, 2.5, None, "ü"]}, tags=None,
            )
        )  # fmt: skip
        expected = dict(conn.execute(sa.select(interactions)).mappings().one())
        columns = columns_of(interactions, conn.dialect.name)
        [row] = fetch_all(conn, f"SELECT {', '.join(columns.names)} FROM interactions", ())
    decoded = columns.mapping(row)
    assert decoded == expected
    assert decoded["start_at"].tzinfo is not None


def test_json_text_only_the_json_module_reads_is_still_read() -> None:
    columns = columns_of(interactions, "sqlite", ("metadata",))
    assert math.isnan(columns.mapping(['{"x": NaN}'])["metadata"]["x"])
