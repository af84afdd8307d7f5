"""The review item page's keyboard shortcuts in Chromium: keys move through the queue
and into the forms, and typing in a field stays typing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.test_pages import open_page
from tests.conftest import RunningServer

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_keys_move_through_the_queue_and_into_the_forms(page: Page, server: RunningServer) -> None:
    open_page(page, f"{server.url}/ui/review")
    first = page.locator("#items a[href^='/ui/review/']").first.get_attribute("href")
    assert first is not None
    open_page(page, f"{server.url}{first}")
    page.keyboard.press("t")
    assert page.evaluate("document.activeElement.name") == "state"
    page.locator("#triage [name=reviewer]").fill("")
    page.locator("#triage [name=reviewer]").press_sequentially("nun")  # text, not keys
    assert page.url == f"{server.url}{first}"
    assert page.locator("#triage [name=reviewer]").input_value() == "nun"
    page.locator("h1").click()
    following = page.locator("#next-item").get_attribute("href")
    assert following is not None, "the seeded queue has more than one open item"
    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.url == f"{server.url}{following}"
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "/ui/review?" in page.url
