"""Opening the store: the engine, its per-dialect settings, and migrations at start-up."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy_timeout still serializes writers
    fcntl = None  # type: ignore[assignment]

import orjson
import sqlalchemy as sa

from liveeval.store.dialect import db_json
from liveeval.store.location import (
    StoreUnavailable,
    describe_failure,
    missing_store,
    parse_store_url,
    shown,
    sqlite_path,
)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class Store:
    """One database. SQLite has one writer at a time; `writing()` serializes writers there."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._writer_file = _open_writer_lock(engine) if self.dialect == "sqlite" else None
        self._checkpointer = Checkpointer(engine) if self.dialect == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def describe(self) -> str:
        """Where the data lives, for people (no password)."""
        url = self.engine.url
        if self.is_sqlite:
            return f"SQLite file {Path(url.database or '').resolve()}"
        return f"PostgreSQL {url.render_as_string(hide_password=True)}"

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """A transaction that commits on success; one at a time on SQLite."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, _holding(self._writer_file), self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic upgrade head)."""
        # alembic (12 MB) is imported by the processes that migrate or check the schema,
        # not by those that only open a store (the background evaluator, serve's workers).
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._writer_file is not None:
            self._writer_file.close()
        self.engine.dispose()


def _open_writer_lock(engine: sa.Engine) -> IO[bytes] | None:
    """A lock file beside the database, so writer processes queue instead of polling.

    SQLite makes a blocked writer sleep and retry (busy_timeout), which leaves the
    database idle between turns when several `serve` workers write at once; a
    blocking flock hands the turn over at once. Threads are serialized by the
    in-process lock; writers that are not liveeval still meet busy_timeout.
    """
    database = engine.url.database
    if not database or database == ":memory:" or fcntl is None:
        return None
    return open(f"{Path(database).expanduser().resolve()}.writer-lock", "ab")


@contextmanager
def _holding(lock_file: IO[bytes] | None) -> Iterator[None]:
    if lock_file is None or fcntl is None:
        yield
        return
    fcntl.flock(lock_file, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file off the writers' path.

    Writers skip SQLite's automatic checkpoint (it would run inside a commit and
    stall ingest); this thread runs a PASSIVE checkpoint, which never blocks
    writers, every `interval` seconds, and the log restarts from the top once a
    checkpoint has caught up.
    """

    def __init__(self, engine: sa.Engine, interval: float = 0.5) -> None:
        self._engine = engine
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                with self._engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except sa.exc.SQLAlchemyError as exc:
                log.warning("SQLite checkpoint failed: %s", exc)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except sa.exc.SQLAlchemyError as exc:
            log.warning("final SQLite checkpoint failed: %s", exc)


def create_store_engine(url: str) -> sa.Engine:
    """The engine for `url`: a path or a URL (see store.location); ValueError if bad."""
    parsed = parse_store_url(url)
    if parsed.get_backend_name() == "sqlite":
        if sqlite3.sqlite_version_info < (3, 35):  # INSERT … RETURNING, used at ingest
            raise ValueError(
                f"SQLite {sqlite3.sqlite_version} is too old: liveeval needs 3.35 or newer"
            )
        engine = sa.create_engine(
            parsed,
            json_serializer=db_json,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        sa.event.listen(engine, "connect", _configure_sqlite)
        sa.event.listen(engine, "begin", _begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(
            parsed,
            json_serializer=db_json,
            json_deserializer=orjson.loads,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
        )
        sa.event.listen(engine, "connect", _configure_postgresql)
        return engine
    raise AssertionError(parsed.get_backend_name())  # parse_store_url refused the others


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_immediate); pysqlite's own is deferred.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-16384")  # KiB: 16 MiB a connection, for index pages
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # Checkpointer does it in the background
    cursor.close()


def _configure_postgresql(dbapi_connection: Any, _record: Any) -> None:
    from liveeval.store.postgres_text import register_nul_free_text  # psycopg: PG only

    register_nul_free_text(dbapi_connection)


def _begin(conn: sa.Connection) -> None:
    # Writers take the write lock up front (BEGIN IMMEDIATE) so that a transaction which
    # read first never fails to upgrade; other processes wait on busy_timeout.
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def open_store(url: str, *, migrate: bool = True) -> Store:
    """The store at `url`, created (file, folder, schema) if need be: for commands that write.

    ValueError for a URL that cannot be used; StoreUnavailable, in one line, when the
    database cannot be reached, does not exist (PostgreSQL) or may not be written.
    """
    parsed = parse_store_url(url)
    path = sqlite_path(parsed)
    try:
        if path is not None:
            path.resolve().parent.mkdir(parents=True, exist_ok=True)
        store = Store(create_store_engine(url))
    except OSError as exc:
        raise StoreUnavailable(describe_failure(parsed, exc)) from None
    if migrate:
        try:
            store.migrate()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, OSError) as exc:
            store.close()
            raise StoreUnavailable(describe_failure(parsed, exc)) from None
    return store


def open_existing_store(url: str) -> Store:
    """The store at `url` for commands that only read: never created, never migrated.

    StoreUnavailable when there is no store there (no SQLite file, an empty database)
    or its schema is not the one this liveeval reads.
    """
    parsed = parse_store_url(url)
    path = sqlite_path(parsed)
    if path is not None and not path.is_file():
        raise StoreUnavailable(missing_store(parsed))
    try:
        store = Store(create_store_engine(url))
    except OSError as exc:
        raise StoreUnavailable(describe_failure(parsed, exc)) from None
    from alembic.runtime.migration import MigrationContext

    try:
        with store.reading() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError, OSError) as exc:
        store.close()
        raise StoreUnavailable(describe_failure(parsed, exc)) from None
    problem = _schema_problem(current, parsed)
    if problem is not None:
        store.close()
        raise StoreUnavailable(problem)
    return store


def _schema_problem(current: str | None, url: sa.URL) -> str | None:
    if current is None:
        return missing_store(url)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    if current == head:
        return None
    known = {script.revision for script in scripts.walk_revisions()}
    if current in known:
        return (
            f"the store at {shown(url)} has an older schema ({current}; this liveeval reads "
            f"{head}): run `liveeval serve --db {shown(url)}` once to upgrade it"
        )
    return (
        f"the store at {shown(url)} has schema {current}, unknown to this liveeval "
        f"(which reads {head}): it was written by a newer liveeval"
    )
