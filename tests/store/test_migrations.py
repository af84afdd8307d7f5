from __future__ import annotations

from pathlib import Path

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
    assert version == "0010"
    assert {
        "interactions",
        "spans",
        "signals",
        "log_events",
        "api_keys",
        "scores",
        "sampling_decisions",
        "judge_jobs",
        "judge_cache",
        "interaction_features",
        "rollups",
        "rollup_watermarks",
        "alerts",
        "notifications",
        "scheduler_leases",
        "review_groups",
        "review_items",
        "review_events",
        "cases",
        "calibration_items",
        "calibration_runs",
        "regression_runs",
        "dashboard_sessions",
        "silences",
        "routing_decisions",
        "routing_kills",
    } <= tables


def test_a_store_made_by_the_first_release_upgrades_with_its_data(tmp_path: Path) -> None:
    """0001 → head keeps what the ingest release stored."""
    from alembic import command
    from alembic.config import Config

    from liveeval.store.database import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "insert into api_keys (key_id, project, role, key_hash, created_at) "
                "values ('k1', 'shop', 'read', 'h', '2026-11-01 00:00:00')"
            )
        )
    engine.dispose()
    upgraded = open_store(url)
    with upgraded.reading() as conn:
        keys = conn.execute(sa.text("select key_id from api_keys")).scalars().all()
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar_one()
    upgraded.close()
    assert (keys, version) == (["k1"], "0010")
