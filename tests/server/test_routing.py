"""/api/v1/routing over the real app (httpx over ASGI) on SQLite and PostgreSQL: policy
snapshots with ETags, server-side choices recorded, outcomes stored as outcome signals
that move the policy, kill switches, insights, and bad bodies refused with nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.routing.snapshot import Snapshot
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.schema import routing_decisions, routing_kills, signals
from tests.conftest import Clock
from tests.server.asgi import HOST, serve

TASK = "support_answer"
ROUTING: dict[str, Any] = {
    "refresh_s": 30,
    "tasks": {
        TASK: {
            "default": "cheap",
            "arms": [
                {"name": "strong", "model": "gpt-4o", "prompt_version": "v2"},
                {"name": "cheap", "model": "gpt-4o-mini", "params": {"temperature": 0.2}},
            ],
            "reward": {"kind": "success"},
            "slices": ["language"],
            "min_share": 0.05,
        },
        "other": {"default": "a", "arms": [{"name": "a", "model": "m"}]},
    },
}
pytestmark = pytest.mark.anyio


@asynccontextmanager
async def routed(store: Store, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(db=str(store.engine.url), allowed_hosts=[HOST], routing=ROUTING)
    async with serve(create_app(settings, store, clock=clock)) as http:
        yield http


async def policy(http: httpx.AsyncClient) -> Snapshot:
    response = await http.get(f"/api/v1/routing/{TASK}/policy")
    assert response.status_code == 200, response.text
    return Snapshot.from_json(response.content)


def count(store: Store, table: sa.Table) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


async def test_the_policy_answers_with_its_version_as_etag(store: Store, clock: Clock) -> None:
    async with routed(store, clock) as http:
        first = await http.get(f"/api/v1/routing/{TASK}/policy")
        assert first.status_code == 200
        snapshot = Snapshot.from_json(first.content)
        assert first.headers["etag"] == f'"{snapshot.policy_version}"'
        assert snapshot.arms == ("strong", "cheap") and snapshot.dimensions == ("language",)
        again = await http.get(
            f"/api/v1/routing/{TASK}/policy", headers={"if-none-match": first.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b"")
        clock.now += timedelta(seconds=31)
        later = await policy(http)
        assert later.policy_version > snapshot.policy_version


async def test_an_unknown_task_is_404_naming_the_configured_ones(
    store: Store, clock: Clock
) -> None:
    async with routed(store, clock) as http:
        for method, path in [
            ("GET", "/api/v1/routing/nope/policy"),
            ("POST", "/api/v1/routing/nope/choose"),
            ("GET", "/api/v1/routing/nope/kills"),
            ("GET", "/api/v1/routing/nope/insights"),
        ]:
            response = await http.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 404, (path, response.text)
            assert response.json() == {
                "detail": f"no routing task 'nope'; configured: other, {TASK}"
            }


async def test_choose_records_the_decision_and_returns_the_arm_config(
    store: Store, clock: Clock
) -> None:
    trace = "ab" * 16
    async with routed(store, clock) as http:
        response = await http.post(
            f"/api/v1/routing/{TASK}/choose",
            json={
                "context": {"language": "de"},
                "session_id": "s-1",
                "goal_id": "g-1",
                "trace_id": trace.upper(),
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "task",
        "arm",
        "probability",
        "slice",
        "policy_version",
        "decision_id",
        "arm_config",
    }
    config = {
        "strong": {"model": "gpt-4o", "prompt_version": "v2", "params": {}},
        "cheap": {"model": "gpt-4o-mini", "prompt_version": None, "params": {"temperature": 0.2}},
    }
    assert body["arm_config"] == config[body["arm"]]
    assert body["slice"] == "*" and body["probability"] == pytest.approx(0.5, abs=0.05)
    with store.reading() as conn:
        row = conn.execute(sa.select(routing_decisions)).mappings().one()
    assert row["decision_id"] == body["decision_id"] and len(row["decision_id"]) == 32
    assert (row["task"], row["arm"], row["probability"], row["policy_version"]) == (
        TASK,
        body["arm"],
        body["probability"],
        body["policy_version"],
    )
    assert (row["context"], row["session_id"], row["goal_id"], row["trace_id"]) == (
        {"language": "de"},
        "s-1",
        "g-1",
        trace,
    )
    assert row["decided_at"] == clock.now


async def test_outcomes_move_the_policy_toward_the_better_arm(store: Store, clock: Clock) -> None:
    async with routed(store, clock) as http:
        before = (await policy(http)).probabilities("*")["strong"]
        for i in range(40):
            chosen = (
                await http.post(
                    f"/api/v1/routing/{TASK}/choose",
                    json={"context": {"language": "de"}, "session_id": f"s-{i}"},
                )
            ).json()
            outcome = {"decision_id": chosen["decision_id"], "success": chosen["arm"] == "strong"}
            posted = await http.post("/api/v1/routing/outcomes", json={"outcomes": [outcome]})
            assert (posted.status_code, posted.json()) == (202, {"accepted": 1})
            clock.now += timedelta(seconds=1)
        clock.now += timedelta(seconds=30)
        after = await policy(http)
    assert before == pytest.approx(0.5, abs=0.05)
    assert after.probabilities("*")["strong"] > 0.9
    assert after.probabilities("language=de")["strong"] > 0.9
    with store.reading() as conn:
        stored = conn.execute(sa.select(signals.c.kind, signals.c.value, signals.c.details)).all()
    assert len(stored) == 40 and {kind for kind, _, _ in stored} == {"outcome"}
    assert all(value in (0.0, 1.0) for _, value, _ in stored)
    assert all(len(details["decision_id"]) == 32 for _, _, details in stored)


async def test_a_goal_outcome_counts_for_every_decision_of_the_goal(
    store: Store, clock: Clock
) -> None:
    async with routed(store, clock) as http:
        arms = []
        for _ in range(12):
            chosen = await http.post(
                f"/api/v1/routing/{TASK}/choose", json={"context": {}, "goal_id": "g-7"}
            )
            arms.append(chosen.json()["arm"])
        outcome = {"goal_id": "g-7", "success": True, "quality_score": 0.8, "error": None}
        posted = await http.post("/api/v1/routing/outcomes", json={"outcomes": [outcome]})
        assert posted.status_code == 202
        clock.now += timedelta(seconds=31)
        snapshot = await policy(http)
    outcomes = {item.arm: item.outcomes for item in snapshot.slices["*"].evidence}
    assert sum(outcomes.values()) == 12
    assert outcomes == {arm: arms.count(arm) for arm in ("strong", "cheap")}


async def test_a_killed_arm_is_at_zero_in_the_next_snapshot_until_lifted(
    store: Store, clock: Clock
) -> None:
    async with routed(store, clock) as http:
        before = await policy(http)
        killed = await http.post(
            f"/api/v1/routing/{TASK}/kills", json={"arm": "strong", "reason": "bad answers"}
        )
        assert killed.status_code == 201, killed.text
        assert killed.json()["arm"] == "strong" and killed.json()["slice"] == "*"
        again = await http.post(f"/api/v1/routing/{TASK}/kills", json={"arm": "strong"})
        assert again.status_code == 200 and again.json()["kill_id"] == killed.json()["kill_id"]
        after = await policy(http)  # no refresh_s wait: a kill changes the policy at once
        assert after.policy_version > before.policy_version
        assert after.probabilities("*") == {"strong": 0.0, "cheap": 1.0}
        listed = (await http.get(f"/api/v1/routing/{TASK}/kills")).json()
        assert [(k["arm"], k["slice"], k["reason"]) for k in listed] == [
            ("strong", "*", "bad answers")
        ]
        in_slice = await http.post(
            f"/api/v1/routing/{TASK}/kills", json={"arm": "cheap", "slice": "language=fr"}
        )
        assert in_slice.status_code == 201
        lifted = await http.delete(f"/api/v1/routing/{TASK}/kills/strong", params={"slice": "*"})
        assert lifted.status_code == 204
        snapshot = await policy(http)
        assert snapshot.probabilities("*")["strong"] > 0.0
        assert snapshot.probabilities("language=fr") == {"strong": 1.0, "cheap": 0.0}
        gone = await http.delete(f"/api/v1/routing/{TASK}/kills/strong")
        assert gone.status_code == 404
        assert gone.json() == {"detail": f"arm 'strong' is not killed in slice '*' of '{TASK}'"}
    with store.reading() as conn:
        rows = conn.execute(sa.select(routing_kills.c.arm, routing_kills.c.lifted_at)).all()
    assert sorted((arm, lifted is not None) for arm, lifted in rows) == [
        ("cheap", False),
        ("strong", True),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"arm": "nope"}, f"'{TASK}' has no arm 'nope'; arms: strong, cheap"),
        (
            {"arm": "strong", "slice": "segment=pro"},
            "slice 'segment=pro': expected 'language' where 'segment' is (slices: ['language'])",
        ),
        (
            {"arm": "strong", "slice": "language=de,segment=pro"},
            "slice 'language=de,segment=pro': the task's slices have at most 1 parts: ['language']",
        ),
    ],
)
async def test_a_kill_of_an_unknown_arm_or_slice_is_422(
    store: Store, clock: Clock, body: dict[str, Any], message: str
) -> None:
    async with routed(store, clock) as http:
        response = await http.post(f"/api/v1/routing/{TASK}/kills", json=body)
    assert (response.status_code, response.json()) == (422, {"detail": message})
    assert count(store, routing_kills) == 0


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ({"success": True}, "name exactly one of decision_id, trace_id, goal_id (got none)"),
        (
            {"decision_id": "a" * 32, "goal_id": "g", "success": True},
            "name exactly one of decision_id, trace_id, goal_id (got decision_id, goal_id)",
        ),
        ({"goal_id": "g"}, "an outcome needs success or quality_score"),
        ({"decision_id": "xyz", "success": True}, "String should match pattern"),
        ({"goal_id": "g", "success": "yes"}, "Input should be a valid boolean"),
        ({"goal_id": "g", "quality_score": "NaN"}, "Input should be a finite number"),
        ({"goal_id": "g", "success": True, "extra": 1}, "Extra inputs are not permitted"),
    ],
)
async def test_a_bad_outcome_is_422_and_nothing_is_stored(
    store: Store, clock: Clock, outcome: dict[str, Any], message: str
) -> None:
    good = {"goal_id": "g-1", "success": True}
    async with routed(store, clock) as http:
        response = await http.post("/api/v1/routing/outcomes", json={"outcomes": [good, outcome]})
    assert response.status_code == 422, response.text
    [issue] = response.json()["detail"]
    assert issue["loc"][:3] == ["body", "outcomes", 1]
    assert message in issue["msg"]
    assert count(store, signals) == 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"context": {"language": 3}}, ["body", "context", "language"]),
        ({"context": {}, "trace_id": "nothex"}, ["body", "trace_id"]),
        ({"context": {}, "session_id": ""}, ["body", "session_id"]),
        ({"context": {}, "arm": "strong"}, ["body", "arm"]),
    ],
)
async def test_a_bad_choose_body_is_422_and_records_nothing(
    store: Store, clock: Clock, body: dict[str, Any], where: list[str]
) -> None:
    async with routed(store, clock) as http:
        response = await http.post(f"/api/v1/routing/{TASK}/choose", json=body)
    assert response.status_code == 422, response.text
    assert [issue["loc"] for issue in response.json()["detail"]] == [where]
    assert count(store, routing_decisions) == 0


async def test_insights_compare_the_window_with_its_baseline(store: Store, clock: Clock) -> None:
    async with routed(store, clock) as http:
        for hours_ago, success in [(100, True)] * 6 + [(10, False)] * 6:
            clock.now -= timedelta(hours=hours_ago)
            chosen = (await http.post(f"/api/v1/routing/{TASK}/choose", json={})).json()
            outcome = {"decision_id": chosen["decision_id"], "success": success}
            await http.post("/api/v1/routing/outcomes", json={"outcomes": [outcome]})
            clock.now += timedelta(hours=hours_ago)
        response = await http.get(
            f"/api/v1/routing/{TASK}/insights", params={"lookback": "48h", "baseline": "168h"}
        )
        bad = await http.get(f"/api/v1/routing/{TASK}/insights", params={"lookback": "2x"})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {item["arm"]: item for item in body["arms"] if item["slice_key"] == "*"}
    assert sum(item["current_n"] for item in rows.values()) == 6
    assert sum(item["baseline_n"] for item in rows.values()) == 6
    assert all(item["current_mean"] == 0.0 for item in rows.values() if item["current_n"])
    assert body["recommendation"]
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("lookback: window must be a duration like")
