"""The harness itself: Chromium starts, reaches the server, and errors are caught."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import PageErrors
from tests.conftest import RunningServer

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_chromium_reaches_the_server(page: Page, server: RunningServer) -> None:
    # a JSON answer names no icon, so Chromium asks for /favicon.ico, which the API lacks
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    response = page.goto(f"{server.url}/api/v1/health")
    assert response is not None and response.status == 200
    assert '"status":"ok"' in page.inner_text("body").replace(" ", "")


def test_console_errors_and_uncaught_exceptions_are_recorded(
    page_errors: tuple[Page, PageErrors],
) -> None:
    page, errors = page_errors
    page.set_content(
        "<p>x</p><script>console.error('boom'); console.log('fine');"
        "setTimeout(() => { throw new TypeError('bad') }, 0)</script>"
    )
    page.wait_for_function("() => true")
    page.wait_for_timeout(50)  # let the timer's exception arrive
    assert any("boom" in line for line in errors.lines)
    assert any("TypeError: bad" in line for line in errors.lines)
    assert not any("fine" in line for line in errors.lines)
