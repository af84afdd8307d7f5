"""PostgreSQL's set-based INSERT: a batch as one array per column."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from liveeval.store.database import Store, open_store
from liveeval.store.dialect import column_arrays, unnest_select
from liveeval.store.features import COLUMNS
from liveeval.store.schema import interaction_features
from tests.conftest import postgres_schema_url
from tests.store.stored import stored_interactions

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_each_array_takes_its_columns_type() -> None:
    sql = unnest_select(interaction_features, COLUMNS)
    assert sql == (
        "SELECT * FROM unnest(%b::BIGINT[], %b::VARCHAR(200)[], "
        "%b::TIMESTAMP WITH TIME ZONE[], %b::INTEGER[], %b::INTEGER[], "
        "%b::VARCHAR(16)[], %b::VARCHAR(100)[])"
    )
    rows = [(1, "a"), (2, None)]
    columns = ("interaction_id", "language")
    assert column_arrays(interaction_features, columns, rows) == [[1, 2], ["a", None]]


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    with postgres_schema_url() as url:
        opened = open_store(url)
        yield opened
        opened.close()


def test_rows_with_nulls_and_nul_characters_arrive_whole(postgres_store: Store) -> None:
    store = postgres_store
    ids = stored_interactions(store, 2)
    rows = [(ids[0], "shop", AT, 1, 2, None, None), (ids[1], "shop", AT, 3, 4, "d\x00e", "x")]
    with store.writing() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO interaction_features ({', '.join(COLUMNS)}) "
            + unnest_select(interaction_features, COLUMNS),
            tuple(column_arrays(interaction_features, COLUMNS, rows)),
        )
        back = conn.execute(
            sa.select(*(interaction_features.c[c] for c in COLUMNS)).order_by(
                interaction_features.c.interaction_id
            )
        ).all()
    assert [tuple(row) for row in back] == [rows[0], (*rows[1][:5], "d\ufffde", "x")]
