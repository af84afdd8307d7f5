"""Fixtures for end-to-end tests in a real browser: Debian's Chromium driven by Playwright.

The browser is the system's `chromium` (never one Playwright downloads). Where it or the
`playwright` package is missing the tests skip with the reason, unless
LIVEEVAL_REQUIRE_BROWSER=1 (CI sets it), which makes them fail instead.

Every page a test opens records console errors and uncaught page errors; a test that
caused any fails at teardown, so "renders with no console errors" holds for every test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from liveeval.config import Settings
from liveeval.store.database import open_store
from tests.browser.seed import PROJECT, Seeded, seed
from tests.conftest import Clock, RunningServer, run_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page

REQUIRE_BROWSER = os.environ.get("LIVEEVAL_REQUIRE_BROWSER") == "1"
TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    """LIVEEVAL_CHROMIUM if set, else the `chromium` on PATH (Debian's package)."""
    return os.environ.get("LIVEEVAL_CHROMIUM") or shutil.which("chromium")


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"a browser is required (LIVEEVAL_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"the playwright package is not installed: {exc}")
        raise  # unreachable: _unavailable skips or fails
    executable = chromium_path()
    if executable is None:
        _unavailable("no chromium on PATH (apt-get install chromium)")
        raise AssertionError("unreachable")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox"]
            )
        except PlaywrightError as exc:
            _unavailable(f"{executable} did not start under Playwright: {exc.message}")
            raise
        yield launched
        launched.close()
    # the sync API's loop can stay marked as running in this thread: later tests need none
    asyncio.events._set_running_loop(None)


class PageErrors:
    """Console errors and uncaught exceptions of one page, as readable lines."""

    def __init__(self, page: Page) -> None:
        self.lines: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.lines.append(f"console.error at {where or page_url(message)}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.lines.append(f"uncaught {error.name}: {error.message}")


def page_url(message: ConsoleMessage) -> str:
    return message.page.url if message.page is not None else "?"


@pytest.fixture
def page_errors(browser: Browser) -> Iterator[tuple[Page, PageErrors]]:
    """A fresh page in a fresh context, and what went wrong on it (not checked)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors = PageErrors(opened)
    yield opened, errors
    context.close()


@pytest.fixture
def page(page_errors: tuple[Page, PageErrors]) -> Iterator[Page]:
    """A fresh page; the test fails at teardown if the page logged an error."""
    opened, errors = page_errors
    yield opened
    if errors.lines:
        pytest.fail("errors in the browser:\n" + "\n".join(errors.lines), pytrace=False)


@pytest.fixture(scope="package")
def seeded_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, Seeded]]:
    """A real liveeval server on a SQLite store with two weeks of traffic, a hostile output
    and a review queue; its clock stands at the seed's `NOW`."""
    path = Path(tmp_path_factory.mktemp("browser")) / "liveeval.db"
    store = open_store(f"sqlite:///{path}")
    settings = Settings(db=str(store.engine.url), default_project=PROJECT, evaluation="off")
    seeded = seed(store, settings)
    try:
        with run_server(store, settings, clock=Clock(seeded.now)) as running:
            yield running, seeded
    finally:
        store.close()


@pytest.fixture(scope="package")
def server(seeded_server: tuple[RunningServer, Seeded]) -> RunningServer:
    return seeded_server[0]


@pytest.fixture(scope="package")
def seeded(seeded_server: tuple[RunningServer, Seeded]) -> Seeded:
    return seeded_server[1]
