"""PostgreSQL cannot hold NUL (U+0000) in text: psycopg refuses any parameter with one,
failing the statement and every row of its batch. On a liveeval connection each string
parameter has its NULs replaced by U+FFFD instead, in stored values and in filters alike,
so a span whose prompt carried one is kept, and a filter naming it finds it.

SQLite keeps NUL as it is; JSON values are made alike on both stores by `db_json`.
"""

from __future__ import annotations

from typing import Any

from psycopg.adapt import Dumper
from psycopg.types import string

# The order psycopg registers its own: the last one registered is the default.
_STRING_DUMPERS: tuple[type[Dumper], ...] = (
    string.StrBinaryDumperName,
    string.StrBinaryDumperVarchar,
    string.StrBinaryDumper,
    string.StrDumperName,
    string.StrDumperVarchar,
    string.StrDumper,
    string.StrDumperUnknown,
)


def without_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _nul_free(base: type[Dumper]) -> type[Dumper]:
    def dump(self: Dumper, obj: str) -> Any:
        return base.dump(self, without_nul(obj))

    return type(f"NulFree{base.__name__}", (base,), {"dump": dump})


NUL_FREE_DUMPERS = tuple(_nul_free(base) for base in _STRING_DUMPERS)


def register_nul_free_text(connection: Any) -> None:
    """Make `connection` (a psycopg connection) write strings without NUL."""
    for dumper in NUL_FREE_DUMPERS:
        connection.adapters.register_dumper(str, dumper)
