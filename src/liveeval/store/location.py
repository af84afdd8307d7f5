"""Where a store lives: the one convention every `--db` takes, and failures said in one line.

A plain path means SQLite at that path; `sqlite:///…` and `postgresql…://` URLs are
taken as they are. This module imports no SQLAlchemy until a URL is parsed, so the
settings can normalise a path without loading the database layer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

BACKENDS = ("sqlite", "postgresql")
HOW_TO_CREATE = "run `liveeval serve` or `liveeval demo` first, or pass --db"


class StoreUnavailable(Exception):
    """The store cannot be opened as asked; the message is one line for people."""


def store_url(value: str) -> str:
    """The SQLAlchemy URL for `--db` VALUE: a path becomes `sqlite:///path`."""
    text = value.strip()
    if not text:
        raise ValueError("the store is empty: give a path (app.db) or a URL")
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser()}"


def parse_store_url(url: str) -> sa.URL:
    """The parsed URL, or a ValueError that says what is wrong with it."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(store_url(url))
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ValueError(
            f"cannot parse the store URL {url!r} ({exc}): give a path (app.db), "
            "sqlite:///path.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.get_backend_name() not in BACKENDS:
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r} in {shown(parsed)}: "
            "use a path (app.db), sqlite:///path.db or postgresql+psycopg://user@host/db"
        )
    return parsed


def shown(url: sa.URL) -> str:
    """The URL for people: no password."""
    return url.render_as_string(hide_password=True)


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory and other databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "").expanduser()


def missing_store(url: sa.URL) -> str:
    path = sqlite_path(url)
    where = str(path) if path is not None else shown(url)
    return f"no store at {where} ({HOW_TO_CREATE})"


def describe_failure(url: sa.URL, exc: BaseException) -> str:
    """One line for a failure to open or migrate the store at `url`."""
    if isinstance(exc, PermissionError):
        name = exc.filename or sqlite_path(url) or shown(url)
        return f"cannot open the store at {shown(url)}: permission denied on {name}"
    message = str(getattr(exc, "orig", None) or exc)
    if url.get_backend_name() == "postgresql":
        return _postgres_failure(url, message)
    path = sqlite_path(url)
    if path is not None and "unable to open database file" in message:
        folder = path.resolve().parent
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.R_OK)):
            return f"cannot open SQLite file {path}: permission denied"
        return f"cannot open SQLite file {path}: {message}"
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return f"cannot open the store at {shown(url)}: {first}"


def _postgres_failure(url: sa.URL, message: str) -> str:
    host = url.host or "localhost"
    port = url.port or 5432
    database = url.database or url.username or "postgres"
    lines = message.strip().splitlines()
    text = " ".join(lines[0].split()) if lines else message
    if re.search(r'database "[^"]*" does not exist', text):
        return (
            f'PostgreSQL database "{database}" does not exist on {host}:{port}: create it '
            f"with `createdb -h {host} -p {port} {database}` (or CREATE DATABASE {database})"
        )
    if "Connection refused" in text or "failed to resolve host" in text or "timeout" in text:
        reason = text.split("failed: ")[-1]
        return f"cannot reach PostgreSQL at {host}:{port}: {reason}"
    if "permission denied" in text or "authentication failed" in text or "role" in text:
        reason = text.split("FATAL: ")[-1].strip()
        return f"PostgreSQL at {host}:{port} refused {shown(url)}: {reason}"
    return f"cannot open PostgreSQL at {host}:{port}: {text.split('FATAL: ')[-1].strip()}"
