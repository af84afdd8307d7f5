"""record_outcome(): validated at the call, posted in the background to the routing
outcomes endpoint with the signal client's batching and retries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from liveeval.sdk import OutcomeError, SignalClient, record_outcome
from liveeval.sdk.outcomes import OUTCOMES, build_outcome
from tests.sdk.conftest import BOUND, Answer, SignalServer

DECISION = "5f0c9a3e0b8d4c1e9a7b6d5c4e3f2a10"
TRACE = "0af7651916cd43dd8448eb211c80319c"
NOW = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
MakeClient = Callable[..., SignalClient]


def test_an_outcome_body_names_one_id_and_how_it_went() -> None:
    body = build_outcome(decision_id=DECISION, success=True, quality_score=4, now=NOW)
    key = body.pop("idempotency_key")
    assert len(key) == 32
    assert body == {
        "decision_id": DECISION,
        "success": True,
        "quality_score": 4.0,
        "occurred_at": NOW.isoformat(),
    }
    failed = build_outcome(trace_id=int(TRACE, 16), success=False, error="timeout", now=NOW)
    assert (failed["trace_id"], failed["error"]) == (TRACE, "timeout")
    later = NOW.astimezone(timezone(timedelta(hours=2)))
    goal = build_outcome(goal_id="g-1", success=False, at=later, idempotency_key="k-1", now=NOW)
    assert (goal["goal_id"], goal["occurred_at"], goal["idempotency_key"]) == (
        "g-1",
        later.isoformat(),
        "k-1",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"success": True}, "exactly one of decision_id, trace_id or goal_id"),
        (
            {"decision_id": DECISION, "goal_id": "g", "success": True},
            r"exactly one .* \(got decision_id, goal_id\)",
        ),
        ({"decision_id": "abc", "success": True}, "decision_id must be 32 lowercase hex"),
        ({"trace_id": "0" * 32, "success": True}, "trace_id must be 32 hex"),
        ({"goal_id": "", "success": True}, "goal_id must be a non-empty str"),
        ({"goal_id": "g" * 201, "success": True}, "at most 200"),
        ({"decision_id": DECISION}, "success or quality_score"),
        ({"decision_id": DECISION, "error": "timeout"}, "success or quality_score"),
        ({"decision_id": DECISION, "success": 1}, "success must be True or False"),
        ({"decision_id": DECISION, "quality_score": True}, "quality_score must be a number"),
        ({"decision_id": DECISION, "quality_score": float("nan")}, "must be finite"),
        ({"decision_id": DECISION, "success": False, "error": 500}, "error must be a str"),
        ({"decision_id": DECISION, "success": False, "error": "e" * 100_001}, "at most 100000"),
        ({"decision_id": DECISION, "success": True, "at": datetime(2026, 1, 1)}, "no timezone"),
    ],
)
def test_bad_arguments_raise_a_precise_error(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(OutcomeError, match=message):
        build_outcome(**arguments, now=NOW)  # type: ignore[arg-type]


def test_outcomes_are_posted_in_batches_to_the_routing_endpoint(
    server: SignalServer, make_client: MakeClient
) -> None:
    client = make_client(server.url, api_key="le_secret", paths=OUTCOMES)
    keys = [record_outcome(decision_id=DECISION, success=i % 2 == 0, client=client) for i in (0, 1)]
    assert client.flush(BOUND)
    posted = [outcome for post in server.posts for outcome in post.body["outcomes"]]
    assert [outcome["idempotency_key"] for outcome in posted] == keys
    assert [outcome["success"] for outcome in posted] == [True, False]
    for post in server.posts:
        assert post.path == "/api/v1/routing/outcomes"
        assert post.headers["authorization"] == "Bearer le_secret"
    assert client.stats().sent == 2


def test_a_refused_batch_is_resent_one_outcome_at_a_time_to_the_same_path(
    server: SignalServer, make_client: MakeClient
) -> None:
    server.release.clear()
    client = make_client(server.url, paths=OUTCOMES)
    record_outcome(goal_id="first", success=True, client=client)
    assert server.wait_for(lambda: len(server.posts) == 1)
    later = [record_outcome(goal_id=f"g-{i}", success=True, client=client) for i in range(3)]
    server.script.extend([Answer(201), Answer(422), Answer(201), Answer(422), Answer(201)])
    server.release.set()
    assert client.flush(BOUND)
    sizes = [(post.path, len(post.body["outcomes"])) for post in server.posts]
    assert sizes == [("/api/v1/routing/outcomes", n) for n in (1, 3, 1, 1, 1)]
    assert [post.body["outcomes"][0]["idempotency_key"] for post in server.posts[2:]] == later
    stats = client.stats()
    assert (stats.sent, stats.rejected) == (3, 1)


def test_a_503_is_retried_with_the_same_idempotency_key(
    server: SignalServer, make_client: MakeClient
) -> None:
    server.script.extend([Answer(503), Answer(503)])
    client = make_client(server.url, paths=OUTCOMES)
    key = record_outcome(trace_id=TRACE, quality_score=0.8, client=client)
    assert client.flush(BOUND)
    assert len(server.posts) == 3
    assert {post.body["outcomes"][0]["idempotency_key"] for post in server.posts} == {key}
