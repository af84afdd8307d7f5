"""Shared fixtures: a real store on SQLite and on PostgreSQL, and a real server.

PostgreSQL tests use LIVEEVAL_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, database `test`), each test in a schema of its own. Where no
PostgreSQL answers they skip with the reason, unless LIVEEVAL_REQUIRE_POSTGRES=1
(CI sets it), which makes them fail instead.
"""

from __future__ import annotations

import asyncio
import os

# numpy's BLAS threads fight over 2 cores when tests run beside other work; one thread
# each is faster here (set before numpy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn

from liveeval.config import Settings
from liveeval.server import create_app
from liveeval.store.database import Store, open_store
from tests.judge.api import ScriptedAPI, run_api

POSTGRES_URL = os.environ.get(
    "LIVEEVAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("LIVEEVAL_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
# Real data nobody here wrote: ../shared/datasets beside the checkout, else the copies in
# tests/data/datasets (a fresh clone has no ../shared; tests/data/SOURCES.md says whence).
DATASETS = (
    SHARED / "datasets"
    if (SHARED / "datasets").is_dir()
    else Path(__file__).resolve().parent / "data" / "datasets"
)


def postgres_unavailable() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it is a reason to skip
        return f"no PostgreSQL at {POSTGRES_URL}: {exc.__class__.__name__}: {exc}"
    return None


_PG_REASON: list[str | None] = []


def _postgres_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(postgres_unavailable())
    return _PG_REASON[0]


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections work in a fresh, private schema; dropped afterwards."""
    reason = _postgres_reason()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (LIVEEVAL_REQUIRE_POSTGRES=1): {reason}")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _no_event_loop_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """Outside the browser tests no event loop runs in the main thread between tests.
    Playwright's sync API (tests/browser, where its loop must stay) can leave its loop
    marked as running in this thread after it stops; every later `asyncio.run` would
    then refuse to start. Clear such a leftover."""
    in_browser_tests = "browser" in request.node.path.parts
    if not in_browser_tests and asyncio.events._get_running_loop() is not None:
        asyncio.events._set_running_loop(None)
    yield


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test body on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'liveeval.db'}"
    else:
        with postgres_schema_url() as url:
            yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'liveeval.db'}")
    yield opened
    opened.close()


class Clock:
    """A settable clock for tests: time moves only when told."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class RunningServer:
    def __init__(self, url: str, store: Store, settings: Settings, app: Any = None) -> None:
        self.url = url
        self.store = store
        self.settings = settings
        self.app = app


@contextmanager
def run_server(store: Store, settings: Settings, **app_kwargs: Any) -> Iterator[RunningServer]:
    """A real uvicorn serving liveeval on a free loopback port, in a thread."""
    app = create_app(settings, store, **app_kwargs)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = datetime.now(UTC).timestamp() + 10
    while not server.started:
        if datetime.now(UTC).timestamp() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", store, settings, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(store: Store) -> Iterator[RunningServer]:
    """liveeval on a real socket over the parametrized store (SQLite and PostgreSQL)."""
    with run_server(store, Settings(db=str(store.engine.url))) as running:
        yield running


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `predicate` returns something truthy (bounded; not a timing assertion)."""
    deadline = datetime.now(UTC).timestamp() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if datetime.now(UTC).timestamp() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        threading.Event().wait(0.02)


@pytest.fixture(scope="session")
def _running_api() -> Iterator[ScriptedAPI]:
    with run_api() as api:
        yield api


@pytest.fixture
def api(_running_api: ScriptedAPI) -> Iterator[ScriptedAPI]:
    """The scripted model API (tests/judge/api.py: a real local HTTP server standing in for a
    paid provider), with no replies queued and no requests recorded."""
    _running_api.reset()
    yield _running_api
    _running_api.reset()
