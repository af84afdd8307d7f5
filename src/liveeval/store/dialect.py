"""The statements that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, unique: Sequence[str]
) -> sa.Insert:
    """INSERT … ON CONFLICT (unique) DO NOTHING."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(unique))


def upsert(
    conn: sa.Connection, table: sa.Table, unique: Sequence[str], keep: Sequence[str] = ()
) -> sa.Insert:
    """INSERT … ON CONFLICT (unique) DO UPDATE every column but the key, `unique` and `keep`."""
    statement = _insert(conn, table)
    fixed = {*unique, *keep, *(column.name for column in table.primary_key)}
    return statement.on_conflict_do_update(
        index_elements=list(unique),
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in fixed},
    )
