"""The Routing page in Debian's Chromium, over a real server with nine days of routed
traffic: the share chart draws one stacked bar per hour, and an arm killed in a slice
through the form disappears from that slice's policy until it is lifted again. The
`page` fixture fails the test if the page logged an error."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from liveeval.config import Settings
from liveeval.server.routing import record_outcomes
from liveeval.server.routing_bodies import OutcomeBody
from liveeval.store.database import Store, open_store
from liveeval.store.routing import Decision, record_decisions
from tests.conftest import Clock, RunningServer, run_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

PROJECT = "support-bot"
TASK = "support_answer"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ROUTING: dict[str, Any] = {
    "tasks": {
        TASK: {
            "default": "mini",
            "slices": ["language"],
            "reward": {"kind": "success"},
            "canary": {"initial_share": 0.05, "min_outcomes": 400},
            "arms": [
                {"name": "mini", "model": "gpt-4o-mini", "prompt_version": "v3", "role": "control"},
                {"name": "large", "model": "gpt-4o", "prompt_version": "v3"},
                {"name": "claude", "model": "claude-3-5-haiku", "role": "canary"},
            ],
        }
    }
}
# Each arm's chance of a successful outcome, per language.
SUCCESS = {
    "mini": {"en": 0.62, "de": 0.58},
    "large": {"en": 0.80, "de": 0.74},
    "claude": {"en": 0.64, "de": 0.60},
}


def seed_routing(store: Store, now: datetime = NOW, days: int = 9) -> int:
    """Routed traffic of the last `days` (12 decisions an hour in the last two days, 4
    before), with `large` taking more of it as its outcomes come in, and an outcome for
    each decision; the number of decisions."""
    rng = random.Random(18)
    hours = 24 * days
    decisions, outcomes = [], []
    for h in range(hours):
        hour = now - timedelta(hours=hours - h)
        large = 0.3 + 0.45 * h / hours
        shares = {"claude": 0.05, "large": large, "mini": 0.95 - large}
        for _ in range(12 if h >= hours - 48 else 4):
            language = "de" if rng.random() < 0.35 else "en"
            arm = rng.choices(list(shares), weights=list(shares.values()))[0]
            at = hour + timedelta(seconds=rng.randrange(3600))
            decision_id = f"{rng.getrandbits(128):032x}"
            decisions.append(
                Decision(
                    decision_id=decision_id,
                    project=PROJECT,
                    task=TASK,
                    arm=arm,
                    probability=shares[arm],
                    policy_version=1 + h,
                    slice=f"language={language}",
                    decided_at=at,
                    context={"language": language},
                )
            )
            if at + timedelta(minutes=5) < now:
                outcomes.append(
                    OutcomeBody(
                        decision_id=decision_id,
                        success=rng.random() < SUCCESS[arm][language],
                        occurred_at=at + timedelta(minutes=5),
                    )
                )
    with store.writing() as conn:
        record_decisions(conn, decisions)
    record_outcomes(store, PROJECT, outcomes, now)
    return len(decisions)


@pytest.fixture(scope="module")
def routed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    path = Path(tmp_path_factory.mktemp("routing")) / "liveeval.db"
    store = open_store(f"sqlite:///{path}")
    settings = Settings(
        db=str(store.engine.url), default_project=PROJECT, evaluation="off", routing=ROUTING
    )
    seed_routing(store)
    try:
        with run_server(store, settings, clock=Clock(NOW)) as running:
            yield running
    finally:
        store.close()


def open_task(page: Page, server: RunningServer) -> None:
    response = page.goto(f"{server.url}/ui/routing/{TASK}", wait_until="networkidle")
    assert response is not None and response.status == 200


def test_the_share_chart_draws_a_stacked_bar_per_hour(
    page: Page, routed_server: RunningServer
) -> None:
    open_task(page, routed_server)
    assert page.locator("nav a.active").inner_text() == "Routing"
    chart = page.locator("#share-chart svg.shares")
    assert chart.is_visible()
    hours = chart.locator("g.hour")
    assert hours.count() == 48  # the default look back, 12 decisions in every hour
    box = chart.bounding_box()
    assert box is not None and box["width"] > 700 and box["height"] > 150
    arms = set(chart.locator("rect.share").evaluate_all("rs => rs.map(r => r.dataset.arm)"))
    assert arms == {"mini", "large", "claude"}
    drawn = hours.first.locator("rect.share").evaluate_all(
        "rs => rs.reduce((sum, r) => sum + r.getBBox().height, 0)"
    )
    assert drawn == pytest.approx(160, abs=0.1)  # an hour's shares fill the bar
    assert "best arm now: large" in page.locator("#recommendation").inner_text()


def test_an_arm_killed_in_a_slice_leaves_its_policy_until_lifted(
    page: Page, routed_server: RunningServer
) -> None:
    open_task(page, routed_server)
    form = page.locator("form#kill")
    form.locator("select[name=arm]").select_option("large")
    form.locator("input[name=slice]").fill("language=de")
    form.locator("input[name=reason]").fill("bad German <b>answers</b>")
    with page.expect_navigation(wait_until="networkidle"):
        form.locator("button").click()
    kills = page.locator("#kills")
    assert "large\tlanguage=de\tbad German <b>answers</b>" in kills.inner_text()
    german = page.locator("table.slice", has=page.locator("caption", has_text="language=de"))
    row = german.locator("tr", has=page.locator("td", has_text="large"))
    assert row.locator("td.probability").inner_text() == "0.0%"
    assert "killed: large" in page.locator("main").inner_text()
    with page.expect_navigation(wait_until="networkidle"):
        kills.locator("form.lift button").click()
    assert "No arm is killed" in page.locator("#kills").inner_text()
    german = page.locator("table.slice", has=page.locator("caption", has_text="language=de"))
    row = german.locator("tr", has=page.locator("td", has_text="large"))
    assert row.locator("td.probability").inner_text() != "0.0%"
