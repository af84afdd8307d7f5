"""The demo's data in Chromium: a newcomer follows the silent model update from its alert to
the slice, to the interactions, to the review queue and to a frozen regression case.

A short story (8 days, 100 requests a weekday) is played through the real paths into a
real server, as `liveeval demo` does, with the simulated judge."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from liveeval.demo.session import DemoSession, story_ending_now
from liveeval.demo.settings import demo_settings
from liveeval.demo.story import PINNED_MODEL, PROJECT, UPDATED_MODEL
from liveeval.store.database import open_store
from tests.browser.test_pages import PAGES, PAINTED, open_page
from tests.conftest import RunningServer, run_server

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    path: Path = tmp_path_factory.mktemp("demo-browser") / "demo.db"
    settings = demo_settings(f"sqlite:///{path}", "127.0.0.1", 0)
    store = open_store(settings.db)
    session = DemoSession(settings, story_ending_now(days=8, per_day=100, seed=1))
    session.start_judge()
    try:
        with run_server(store, settings) as server:
            # in its own thread, as `liveeval demo` plays: this one runs Playwright's loop
            player = threading.Thread(target=session.play, args=(server.url, lambda line: None))
            player.start()
            player.join(timeout=300)
            assert session.played is not None, f"the demo did not finish: {session.error}"
            yield server
    finally:
        session.close()
        store.close()


def _url(demo: RunningServer, page: str) -> str:
    return f"{demo.url}/ui/{page}?project={PROJECT}"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_of_the_demo_renders(page: Page, demo: RunningServer, name: str) -> None:
    open_page(page, _url(demo, name))
    assert page.locator("main h1").first.is_visible()
    assert "simulated" in page.locator("body").inner_text()  # the banner: no real model


def test_the_demo_quality_chart_draws_both_prompt_versions(page: Page, demo: RunningServer) -> None:
    open_page(page, _url(demo, "quality") + "&by=prompt_version")
    labels = page.locator(".chart .u-legend").first.inner_text()
    assert "v1" in labels and "v2" in labels
    plot = page.locator(".chart .uplot").first
    assert plot.evaluate(PAINTED) > 500


def test_from_the_alert_to_the_slice_its_interactions_review_and_a_frozen_case(
    page: Page, demo: RunningServer
) -> None:
    # 1. the alert names the slice the model update hurt
    open_page(page, _url(demo, "alerts"))
    by_model = page.locator("tbody tr").filter(has_text=f"model_served={UPDATED_MODEL}")
    by_language = page.locator("tbody tr").filter(has_text="language=de")
    assert by_model.count() + by_language.count() >= 1, page.locator("tbody").inner_text()
    alert = by_model.first if by_model.count() else by_language.first

    # 2. its interactions: only that slice; the newest are served by the updated model,
    # which the pinned name hid ("≠" the requested one)
    with page.expect_navigation():
        alert.locator("a", has_text="interactions").click()
    assert f"model={UPDATED_MODEL}" in page.url or "language=de" in page.url
    listed = page.locator("#interactions tbody tr")
    assert listed.count() >= 1
    assert "No interaction matches." not in listed.first.inner_text()
    headers = [h.strip() for h in page.locator("#interactions thead th").all_inner_texts()]
    served = listed.first.locator("td").nth(headers.index("model served")).inner_text()
    assert served.startswith(UPDATED_MODEL) and f"≠ {PINNED_MODEL}" in served
    with page.expect_navigation():
        listed.first.locator("td a").first.click()
    assert re.search(r"/ui/interactions/\d+$", page.url)
    assert page.locator("main").inner_text().strip()

    # 3. the review queue holds failures; the demo's reviewer promoted some of them
    open_page(page, _url(demo, "review") + "&state=promoted")
    groups = page.locator("#groups a[href*='group=']")
    assert groups.count() >= 1
    with page.expect_navigation():
        groups.first.click()
    with page.expect_navigation():
        page.locator("#items a[href^='/ui/review/']").first.click()
    case_link = page.locator("main a[href*='/ui/golden'][href*='case=']")
    assert case_link.count() == 1
    case_id = case_link.inner_text()
    assert "frozen regression case" in page.locator("main").inner_text()

    # 4. the frozen case is in the golden set, beside the regression run
    with page.expect_navigation():
        case_link.click()
    # Its own row: "review-1" is also a prefix of "review-13".
    named = page.locator("td").filter(has_text=re.compile(rf"^\s*{re.escape(case_id)}\s*$"))
    row = page.locator("#cases tbody tr").filter(has=named)
    assert "frozen" in row.inner_text() and "regression" in row.inner_text()
    assert page.locator("#runs tbody tr").count() >= 1
    assert "No run stored yet" not in page.locator("#runs").inner_text()
