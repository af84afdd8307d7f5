"""Rows read through the driver's own cursor, decoded as SQLAlchemy's column types would.

The evaluator reads every interaction it checks; SQLAlchemy's statement compiling and
per-value result processing cost more than the query itself. The hot reads send plain
SQL to the driver and decode each column once, by its type: JSON text parsed on SQLite
(psycopg parses jsonb itself), timestamps as aware UTC datetimes (SQLite stores naive
UTC text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa

Decoder = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Columns:
    """Columns of a table, read through the driver: their names, and how to decode the
    few whose driver value differs from SQLAlchemy's (JSON, timestamps)."""

    names: tuple[str, ...]
    decoded: tuple[tuple[str, Decoder], ...]

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        """One row as SQLAlchemy would answer it, by column name."""
        values = dict(zip(self.names, row, strict=True))
        for name, decode in self.decoded:
            values[name] = decode(values[name])
        return values


@lru_cache(maxsize=32)
def columns_of(table: sa.Table, dialect: str, names: tuple[str, ...] | None = None) -> Columns:
    """`names` of `table` (all its columns when None) as read on `dialect`."""
    chosen = table.columns if names is None else [table.c[name] for name in names]
    decoded = [(column.name, decoder(column.type, dialect)) for column in chosen]
    return Columns(
        tuple(column.name for column in chosen),
        tuple((name, decode) for name, decode in decoded if decode is not _same),
    )


def decoder(column_type: sa.types.TypeEngine[Any], dialect: str) -> Decoder:
    """How to turn what the driver answers for a column of this type into what SQLAlchemy
    would answer."""
    if isinstance(column_type, sa.JSON):
        return _json if dialect == "sqlite" else _same
    if isinstance(column_type, sa.TypeDecorator) and isinstance(column_type.impl, sa.DateTime):
        return _sqlite_time if dialect == "sqlite" else _utc
    return _same


def fetch_all(conn: sa.Connection, sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of `sql`, through the driver's cursor (no SQLAlchemy result processing)."""
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, parameters)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def in_ids(dialect: str, count: int) -> str:
    """`IN (?, …)` on SQLite, `= ANY(%s)` (one array parameter) on PostgreSQL; see `ids`."""
    return f"IN ({', '.join('?' for _ in range(count))})" if dialect == "sqlite" else "= ANY(%s)"


def ids(dialect: str, values: list[int]) -> tuple[Any, ...]:
    """The parameters `in_ids` takes for these ids."""
    return tuple(values) if dialect == "sqlite" else (values,)


def _same(value: Any) -> Any:
    return value


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses and the json module reads (NaN)
        return json.loads(text)


def _sqlite_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
