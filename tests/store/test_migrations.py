from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from liveeval.store.database import Store, open_store
from liveeval.store.schema import metadata


def test_migrations_create_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(store_url: str) -> None:
    first = open_store(store_url)
    first.close()
    again = open_store(store_url)
    with again.reading() as conn:
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar_one()
        tables = set(sa.inspect(conn).get_table_names())
    again.close()
    assert version == "0001"
    assert {"interactions", "spans", "signals", "log_events", "api_keys"} <= tables
