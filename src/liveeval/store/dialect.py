"""The statements that differ between SQLite and PostgreSQL, in one place.

`bulk_insert` is the ingest hot path: rows arrive as tuples already in the
driver's types (see `db_time` and `db_json`), and go to the driver's
executemany without SQLAlchemy's per-row processing, which costs more than the
insert itself at tens of thousands of rows a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def insert_ignoring_duplicates(
    conn: sa.Connection, table: sa.Table, unique: Sequence[str]
) -> sa.Insert:
    """INSERT … ON CONFLICT (unique) DO NOTHING."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(unique))


@lru_cache(maxsize=64)
def _bulk_sql(
    dialect: str,
    table: str,
    columns: tuple[str, ...],
    unique: tuple[str, ...],
    update: tuple[str, ...] | None,
    returning: tuple[str, ...] = (),
    rows: int = 1,
    where: str = "",
) -> str:
    """INSERT of `rows` rows, skipping a `unique` conflict or updating `update` on it
    (`where`: the predicate of a partial unique index on `unique`)."""
    placeholder = "?" if dialect == "sqlite" else "%s"
    one_row = f"({', '.join(placeholder for _ in columns)})"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES {', '.join(one_row for _ in range(rows))} "
        f"{_on_conflict(unique, update, where)}"
    )
    return f"{sql} RETURNING {', '.join(returning)}" if returning else sql


def _on_conflict(unique: tuple[str, ...], update: tuple[str, ...] | None, where: str) -> str:
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in update)
        if update
        else "DO NOTHING"
    )
    return f"ON CONFLICT ({', '.join(unique)}) {f'WHERE {where} ' if where else ''}{action}"


def bulk_insert(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    unique: Sequence[str],
    update: Sequence[str] | None = None,
    *,
    where: str = "",
    as_arrays: bool = False,
) -> None:
    """INSERT many rows; on a `unique` conflict skip the row, or update the `update` columns.

    `where`: the predicate of the partial unique index on `unique`. `as_arrays`: on
    PostgreSQL, one statement for all the rows, each column one array parameter
    (`unnest`), which the server plans and runs once instead of once a row (executemany
    pipelines a statement a row). SQLite, in-process, gains nothing from it.
    """
    if not rows:
        return
    key = (
        conn.dialect.name,
        table.name,
        tuple(columns),
        tuple(unique),
        tuple(update) if update else None,
    )
    if not as_arrays or conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_bulk_sql(*key, where=where), list(rows))
        return
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"{unnest_select(table, tuple(columns))} {_on_conflict(*key[3:], where)}"
    )
    conn.exec_driver_sql(sql, tuple(column_arrays(table, columns, rows)))


@lru_cache(maxsize=32)
def unnest_select(table: sa.Table, columns: tuple[str, ...]) -> str:
    """`SELECT * FROM unnest(…)`: rows for a PostgreSQL INSERT given as one array
    parameter a column (`column_arrays`), so a batch is one statement whose text does not
    depend on its size. Executemany runs a statement a row, and a multi-row VALUES text
    past 4,096 bytes is parsed anew by psycopg on every call. Binary (%b): the text format
    escapes every array element with a regex, in Python."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"%b::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)
    return f"SELECT * FROM unnest({arrays})"


def column_arrays(
    table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[list[Any]]:
    """The parameters of `unnest_select`: the rows' values by column, a float column's
    ints made floats (psycopg types an array by its first value)."""
    arrays = [list(values) for values in zip(*rows, strict=True)]
    for index, name in enumerate(columns):
        if isinstance(table.c[name].type, sa.Float):
            arrays[index] = [
                v if v is None or isinstance(v, float) else float(v) for v in arrays[index]
            ]
    return arrays


# Parameters in one SQLite statement: its default limit is 32,766.
MAX_PARAMETERS = 30_000
MAX_ROWS_PER_STATEMENT = 500


def bulk_insert_returning(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    unique: Sequence[str],
    returning: Sequence[str],
    update: Sequence[str] | None = None,
) -> list[tuple[Any, ...]]:
    """bulk_insert, answering the `returning` columns of each row inserted or updated.

    The ids come back from the write itself: finding them afterwards by a second query
    depends on the planner picking the right index, which PostgreSQL does not on a table
    without statistics. PostgreSQL takes the one-row statement pipelined (psycopg's
    executemany with returning); SQLite, whose executemany answers no rows, takes many
    rows to a statement.
    """
    if not rows:
        return []
    key = (
        conn.dialect.name,
        table.name,
        tuple(columns),
        tuple(unique),
        tuple(update) if update else None,
        tuple(returning),
    )
    if conn.dialect.name != "sqlite":
        cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_bulk_sql(*key), rows, returning=True)
            answered: list[tuple[Any, ...]] = []
            while True:
                answered += cursor.fetchall()
                if not cursor.nextset():
                    return answered
        finally:
            cursor.close()
    per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // len(columns)))
    answered = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        flat = tuple(value for row in chunk for value in row)
        answered += [tuple(row) for row in conn.exec_driver_sql(_bulk_sql(*key, len(chunk)), flat)]
    return answered


def db_time(conn: sa.Connection) -> Callable[[datetime], Any]:
    """How the driver takes a timestamp: SQLite as SQLAlchemy's naive UTC text, others as is."""
    if conn.dialect.name == "sqlite":
        return sqlite_time
    return _aware


def sqlite_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: liveeval stores UTC-aware times")
    return value


# A JSON escape of NUL: `\u0000` after an even number of backslashes (an odd number
# means the backslash before `u0000` is itself escaped text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def db_json(value: Any) -> str:
    """JSON text; both SQLite (TEXT) and PostgreSQL (jsonb) take it as a parameter.

    jsonb cannot hold NUL, so a NUL in a string is stored as U+FFFD on both stores; a
    lone surrogate, which no JSON encoder writes, as U+FFFD too.
    """
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        text = orjson.dumps(_valid_text(value), option=orjson.OPT_NON_STR_KEYS)
    if b"\\u0000" in text:
        text = _NUL_ESCAPE.sub(rb"\1\\ufffd", text)
    return text.decode()


def _valid_text(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_text(item) for item in value]
    return value


def string_widths(table: sa.Table, columns: Sequence[str]) -> tuple[int | None, ...]:
    """The declared length of each of `columns` that is a bounded string, else None."""
    return tuple(
        column.type.length if isinstance(column.type, sa.String) else None
        for column in (table.c[name] for name in columns)
    )


def clip(row: tuple[Any, ...], widths: tuple[int | None, ...]) -> tuple[Any, ...]:
    """Strings cut to their column's width: PostgreSQL refuses longer ones (failing the whole
    batch), SQLite would keep them; either way a too-long model name must not lose a span."""
    for index, width in _bounded(widths):
        value = row[index]
        if isinstance(value, str) and len(value) > width:
            break
    else:
        return row  # the usual case: nothing to cut, no copy
    return tuple(
        value[:width] if width is not None and isinstance(value, str) else value
        for value, width in zip(row, widths, strict=True)
    )


@lru_cache(maxsize=64)
def _bounded(widths: tuple[int | None, ...]) -> tuple[tuple[int, int], ...]:
    """(position, width) of each bounded column: the only ones clip has to look at."""
    return tuple((index, width) for index, width in enumerate(widths) if width is not None)
