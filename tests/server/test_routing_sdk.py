"""The SDK's Router and record_outcome against a real `liveeval serve` (uvicorn on port 0,
on SQLite and PostgreSQL): routed calls traced over OTLP, outcomes posted over REST, the
policy moving toward the better arm, a killed arm losing its traffic at the next refresh,
and the SDK still choosing once the server is gone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from liveeval.config import Settings
from liveeval.model import Role
from liveeval.sdk import ArmSpec, Router, SignalClient, llm_call, record_outcome
from liveeval.sdk.outcomes import OUTCOMES
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.conftest import RunningServer, run_server, wait_for

PROJECT = "support-bot"
TASK = "support_answer"
BOUND = 20.0
ARMS = {"good": ArmSpec("gpt-4o"), "bad": ArmSpec("gpt-4o-mini")}
ROUTING = {
    "refresh_s": 0.05,
    "tasks": {
        TASK: {
            "default": "bad",
            "arms": [
                {"name": "good", "model": "gpt-4o"},
                {"name": "bad", "model": "gpt-4o-mini"},
            ],
            "reward": {"kind": "success"},
            "min_share": 0.05,
        }
    },
}


@dataclass
class App:
    """What an app holds: a router, a tracer provider exporting to liveeval, an outcome
    client; `api` is an admin's REST client."""

    server: RunningServer
    key: str
    router: Router
    tracing: TracerProvider
    outcomes: SignalClient
    api: httpx.Client

    def serve(self, n: int, success_of: dict[str, bool]) -> list[str]:
        """`n` routed requests, each with an LLM call inside and an outcome by arm."""
        arms = []
        for i in range(n):
            with self.router.route({"language": "de"}, session_id=f"s-{i}") as choice:
                model = self.router.arm(choice).model
                with llm_call(model, tracer_provider=self.tracing):
                    pass
            record_outcome(
                decision_id=choice.decision_id,
                success=success_of[choice.arm],
                client=self.outcomes,
            )
            arms.append(choice.arm)
        assert self.tracing.force_flush(int(BOUND * 1000))
        assert self.outcomes.flush(BOUND)
        assert self.outcomes.stats().sent == n, self.outcomes.stats()
        return arms

    def share(self, arm: str) -> float:
        assert self.router.refresh()
        snapshot = self.router.snapshot
        assert snapshot is not None
        return snapshot.probabilities("*")[arm]


@pytest.fixture
def app(store: Store) -> Iterator[App]:
    with store.writing() as conn:
        _, key = create_key(conn, PROJECT, Role.ADMIN, "routing tests", datetime.now(UTC))
    settings = Settings(db=str(store.engine.url), require_keys=True, routing=ROUTING)
    with run_server(store, settings) as server:
        headers = {"authorization": f"Bearer {key}"}
        tracing = TracerProvider(resource=Resource.create({"service.name": PROJECT}))
        exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", headers=headers)
        tracing.add_span_processor(SimpleSpanProcessor(exporter))
        router = Router(
            TASK,
            default="bad",
            arms=ARMS,
            server=server.url,
            api_key=key,
            project=PROJECT,
            tracer_provider=tracing,
            start=False,
        )
        outcomes = SignalClient(
            server.url, api_key=key, project=PROJECT, paths=OUTCOMES, backoff=0.01
        )
        with httpx.Client(base_url=server.url, headers=headers, timeout=BOUND) as api:
            yield App(server, key, router, tracing, outcomes, api)
        router.close()
        outcomes.shutdown(BOUND)
        tracing.shutdown()


def test_outcomes_move_the_policy_toward_the_better_arm(app: App) -> None:
    assert app.router.refresh()
    first = app.router.snapshot
    assert first is not None and set(first.arms) == set(ARMS)
    before = app.share("good")
    arms = app.serve(60, {"good": True, "bad": False})
    assert set(arms) == {"good", "bad"}

    def moved() -> bool:
        return app.share("good") > max(0.8, before)

    wait_for(moved, BOUND)
    snapshot = app.router.snapshot
    assert snapshot is not None and snapshot.policy_version > first.policy_version
    served = [app.router.choose({"language": "de"}).arm for _ in range(400)]
    assert served.count("good") > served.count("bad")


def test_a_killed_arm_gets_no_traffic_after_the_next_refresh(app: App) -> None:
    assert app.router.refresh()
    version = _version(app.router)
    response = app.api.post(f"/api/v1/routing/{TASK}/kills", json={"arm": "good", "reason": "t"})
    assert response.status_code == 201, response.text
    listed = app.api.get(f"/api/v1/routing/{TASK}/kills")
    assert [kill["arm"] for kill in listed.json()] == ["good"]

    app.router.refresh_s = 0.05
    app.router.start()  # every snapshot computed after the kill has it
    wait_for(lambda: _version(app.router) > version, BOUND)
    assert {app.router.choose({"language": "de"}).arm for _ in range(500)} == {"bad"}
    assert {app.router.choose({}, session_id=f"s-{i}").arm for i in range(200)} == {"bad"}

    deleted = app.api.delete(f"/api/v1/routing/{TASK}/kills/good", params={"slice": "*"})
    assert deleted.status_code == 204, deleted.text
    wait_for(lambda: app.share("good") > 0.0, BOUND)
    assert "good" in {app.router.choose({}).arm for _ in range(500)}


def test_the_sdk_keeps_choosing_when_the_server_is_gone(store: Store) -> None:
    settings = Settings(db=str(store.engine.url), routing=ROUTING)
    with run_server(store, settings) as server:
        router = Router(TASK, default="bad", arms=ARMS, server=server.url, start=False)
        assert router.refresh()
        version = _version(router)
        assert version > 0
    assert router.refresh() is False
    choices = [router.choose({"language": "de"}) for _ in range(200)]
    assert {choice.policy_version for choice in choices} == {version}
    assert {choice.arm for choice in choices} <= set(ARMS)


def test_an_app_without_the_sdk_routes_over_rest(app: App) -> None:
    chosen = app.api.post(
        f"/api/v1/routing/{TASK}/choose",
        json={"context": {"language": "de"}, "session_id": "s-1", "goal_id": "g-1"},
    )
    assert chosen.status_code == 200, chosen.text
    decision: dict[str, Any] = chosen.json()
    assert decision["task"] == TASK and decision["arm"] in ARMS
    assert decision["arm_config"]["model"] == ARMS[decision["arm"]].model
    assert 0.0 < decision["probability"] <= 1.0
    assert len(decision["decision_id"]) == 32
    posted = app.api.post(
        "/api/v1/routing/outcomes",
        json={"outcomes": [{"goal_id": "g-1", "success": True}]},
    )
    assert posted.status_code == 202, posted.text
    assert posted.json() == {"accepted": 1}
    policy = app.api.get(f"/api/v1/routing/{TASK}/policy")
    etag = policy.headers["etag"]
    assert etag == f'"{policy.json()["policy_version"]}"'
    again = app.api.get(f"/api/v1/routing/{TASK}/policy", headers={"if-none-match": etag})
    assert again.status_code in (200, 304)
    unknown = app.api.get("/api/v1/routing/nope/policy")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": f"no routing task 'nope'; configured: {TASK}"}


def _version(router: Router) -> int:
    snapshot = router.snapshot
    return 0 if snapshot is None else snapshot.policy_version
