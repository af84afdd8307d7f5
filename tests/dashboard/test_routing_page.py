"""The Routing pages through the real app on SQLite and PostgreSQL: decisions written
through the store and outcomes posted over REST show as shares per hour, rewards with
their intervals (checked against scipy), the policy per slice and the canary; the kill
form sets and lifts a switch the policy obeys, and refuses a wrong CSRF token or a
viewer who may not change anything."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import hypothesis.strategies as st
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from liveeval.config import Settings
from liveeval.model import Role
from liveeval.routing.snapshot import Snapshot
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from liveeval.store.routing import Decision, active_kills, record_decisions
from tests.conftest import Clock
from tests.fuzzing import fuzz_settings
from tests.server.asgi import HOST, serve

pytestmark = pytest.mark.anyio
TASK = "support_answer"
ROUTING: dict[str, Any] = {
    "tasks": {
        TASK: {
            "default": "cheap",
            "arms": [
                {"name": "strong", "model": "gpt-4o", "prompt_version": "v2"},
                {"name": "cheap", "model": "gpt-4o-mini", "role": "control"},
                {"name": "trial", "model": "claude-3-5-haiku", "role": "canary"},
            ],
            "reward": {"kind": "success"},
            "slices": ["language"],
        },
        "quiet": {"default": "a", "arms": [{"name": "a", "model": "m"}]},
    },
}


@asynccontextmanager
async def routed(store: Store, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    merged = Settings(db=str(store.engine.url), allowed_hosts=[HOST], routing=ROUTING, **settings)
    async with serve(create_app(merged, store, clock=Clock())) as http:
        yield http


def successes(arm: str) -> list[bool]:
    """What each of the arm's decisions earned, in decision order."""
    return [i % 3 != 0 for i in range(12)] if arm == "strong" else [True, False, False, False]


async def seed(store: Store, http: httpx.AsyncClient) -> None:
    """16 decisions from 08:00 to 11:45 UTC (the clock stands at 12:00), 3 of each hour's
    4 to strong, and an outcome for each posted over REST 5 minutes after it."""
    start = Clock().now - timedelta(hours=4)
    decisions = [
        Decision(
            decision_id=f"{i:032x}",
            project="default",
            task=TASK,
            arm="cheap" if i % 4 == 3 else "strong",
            probability=0.25 if i % 4 == 3 else 0.75,
            policy_version=1,
            slice="language=de" if i < 8 else "language=en",
            decided_at=start + timedelta(minutes=15 * i),
            context={"language": "de" if i < 8 else "en"},
        )
        for i in range(16)
    ]
    with store.writing() as conn:
        record_decisions(conn, decisions)
    earned = {arm: iter(successes(arm)) for arm in ("strong", "cheap")}
    outcomes = [
        {
            "decision_id": d.decision_id,
            "success": next(earned[d.arm]),
            "occurred_at": (d.decided_at + timedelta(minutes=5)).isoformat(),
        }
        for d in decisions
    ]
    posted = await http.post("/api/v1/routing/outcomes", json={"outcomes": outcomes})
    assert posted.status_code == 202, posted.text


def section(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</table>", 1)[0]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def t_interval_text(values: list[bool]) -> str:
    data = [float(v) for v in values]
    mean = sum(data) / len(data)
    low, high = stats.t.interval(0.95, len(data) - 1, loc=mean, scale=stats.sem(data))
    low, high = max(0.0, low), min(1.0, high)  # rewards lie in [0, 1]
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


async def test_without_routed_tasks_the_page_shows_the_config_to_add(store: Store) -> None:
    settings = Settings(db=str(store.engine.url), allowed_hosts=[HOST])
    async with serve(create_app(settings, store, clock=Clock())) as http:
        shown = await http.get("/ui/routing")
    assert shown.status_code == 200
    assert 'id="no-tasks"' in shown.text and "[routing.tasks.support_answer]" in shown.text
    assert '<a href="/ui/routing?project=default" class="active">Routing</a>' in shown.text


async def test_the_routing_page_lists_each_task_with_its_traffic(store: Store) -> None:
    async with routed(store) as http:
        await seed(store, http)
        shown = await http.get("/ui/routing")
    rows = section(shown.text, "tasks")
    assert f'href="/ui/routing/{TASK}?project=default"' in rows
    assert "cheap <small>(control)</small>" in rows and "trial <small>(canary)</small>" in rows
    assert "<td>16</td>" in rows  # decisions of the last 24 h
    assert "<td>0 <small" in rows  # the quiet task, with a pointer to how to start


async def test_a_task_page_shows_shares_per_hour_rewards_and_the_policy(store: Store) -> None:
    async with routed(store) as http:
        await seed(store, http)
        shown = await http.get(f"/ui/routing/{TASK}")
    assert shown.status_code == 200
    html = unescape(shown.text)
    # One bar per hour, 08:00 to 11:00, each split 3 : 1 (titles are the hover text).
    titles = re.findall(r"<title>(2026-11-01 \d\d:00) UTC: ([^<]*)</title>", html)
    assert titles == [
        (f"2026-11-01 {h:02d}:00", "strong 3 (75.0%), cheap 1 (25.0%)") for h in range(8, 12)
    ]
    assert html.count('class="share" data-arm="strong"') == 4
    assert 'id="no-decisions"' not in html
    # Rewards: the mean and 95% t interval of each arm's outcomes, as scipy has them.
    rewards = section(html, "rewards")
    assert t_interval_text(successes("strong")) in rewards
    assert t_interval_text(successes("cheap")) in rewards
    assert "best arm now: strong" in html
    assert "Estimated regret: not shown." in html
    # The policy per slice: the task-wide slice and each language, with the canary note.
    for caption in ("all traffic (*", "language=de", "language=en"):
        assert f"<caption>{caption}" in html
    assert re.search(r"<li>canary trial capped at 0.05: canary - control in \[", html)
    canaries = section(html, "canaries")
    assert "<td>trial</td>" in canaries and ">capped</span>" in canaries


async def test_a_task_without_decisions_shows_how_to_send_them(store: Store) -> None:
    async with routed(store) as http:
        shown = await http.get("/ui/routing/quiet")
        unknown = await http.get("/ui/routing/nope")
    html = unescape(shown.text)
    assert 'id="no-decisions"' in html and 'id="share-chart"' not in html
    assert 'router = le.Router("quiet", default="a")' in html
    assert 'le.setup("<this server>", project="default", api_key="le_...")' in html
    assert 'id="no-rewards"' in html
    assert unknown.status_code == 404 and "configured: quiet, support_answer" in unknown.text


async def test_the_kill_form_sets_and_lifts_a_switch_the_policy_obeys(store: Store) -> None:
    async with routed(store) as http:
        await seed(store, http)
        before = await http.get(f"/ui/routing/{TASK}")
        csrf = csrf_of(before.text)
        form = {"arm": "strong", "slice": "language=de", "reason": "bad German", "csrf": csrf}
        killed = await http.post(f"/ui/routing/{TASK}/kill", data=form)
        after = await http.get(killed.headers["location"])
        policy = Snapshot.from_json((await http.get(f"/api/v1/routing/{TASK}/policy")).content)
        bad = await http.post(f"/ui/routing/{TASK}/kill", data={**form, "slice": "segment=pro"})
        shown_bad = await http.get(bad.headers["location"])
        lifted = await http.post(
            f"/ui/routing/{TASK}/lift",
            data={"arm": "strong", "slice": "language=de", "csrf": csrf},
        )
        final = await http.get(lifted.headers["location"])
        relearned = Snapshot.from_json((await http.get(f"/api/v1/routing/{TASK}/policy")).content)
    assert killed.status_code == lifted.status_code == 303
    assert killed.headers["location"] == f"/ui/routing/{TASK}?project=default"
    kills = section(after.text, "kills")
    assert '<td>strong</td><td>language=de</td><td class="text">bad German</td>' in kills
    assert policy.probabilities("language=de")["strong"] == 0.0
    assert policy.probabilities("*")["strong"] > 0.0
    assert "expected &#39;language&#39; where &#39;segment&#39; is" in shown_bad.text
    assert "No arm is killed" in section(final.text, "kills")
    assert relearned.probabilities("language=de")["strong"] > 0.0


async def test_a_kill_with_a_wrong_csrf_token_or_by_a_read_key_is_refused(store: Store) -> None:
    async with routed(store) as http:
        wrong = await http.post(
            f"/ui/routing/{TASK}/kill", data={"arm": "strong", "csrf": "not-the-token"}
        )
        missing = await http.post(f"/ui/routing/{TASK}/kill", data={"arm": "strong"})
    with store.writing() as conn:
        _, secret = create_key(conn, "default", Role.READ, "reader", Clock().now)
    async with routed(store, require_keys=True) as http:
        login = await http.get("/ui/login")
        signed = await http.post("/ui/login", data={"key": secret, "csrf": csrf_of(login.text)})
        assert signed.status_code == 303
        shown = await http.get(f"/ui/routing/{TASK}")
        by_reader = await http.post(
            f"/ui/routing/{TASK}/kill", data={"arm": "strong", "csrf": csrf_of(shown.text)}
        )
    assert wrong.status_code == missing.status_code == by_reader.status_code == 403
    assert 'id="kill"' not in shown.text  # a read key sees no kill form
    with store.reading() as conn:
        assert active_kills(conn, "default", TASK) == []


TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "*", "language=de", "language=de,segment=pro", "a\x00b", "1e308"]),
)

ARMS = st.one_of(st.sampled_from(["strong", "cheap", "trial"]), TEXT)


@pytest.fixture
def sync_http(store: Store) -> Iterator[TestClient]:
    settings = Settings(db=str(store.engine.url), evaluation="off", routing=ROUTING)
    app = create_app(settings, store, clock=Clock())
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client
    app.state.drift_reports.close()


def test_no_routing_page_or_form_answers_5xx_to_any_value(sync_http: TestClient) -> None:
    csrf = csrf_of(sync_http.get(f"/ui/routing/{TASK}").text)

    @fuzz_settings()
    @hypothesis.given(
        task=st.one_of(st.just(TASK), st.text(min_size=1, max_size=20)),
        query=st.fixed_dictionaries({}, optional={"hours": TEXT, "project": TEXT, "error": TEXT}),
        form=st.fixed_dictionaries({"arm": ARMS, "slice": TEXT, "reason": TEXT}),
    )
    def answers(task: str, query: dict[str, str], form: dict[str, str]) -> None:
        path = f"/ui/routing/{quote(task, safe='')}"
        for response in (
            sync_http.get("/ui/routing", params=query, follow_redirects=False),
            sync_http.get(path, params=query, follow_redirects=False),
            sync_http.post(f"{path}/kill", data={**form, "csrf": csrf}, follow_redirects=False),
            sync_http.post(f"{path}/lift", data={**form, "csrf": csrf}, follow_redirects=False),
        ):
            assert response.status_code < 500, (task, query, form, response.text[:300])

    answers()
