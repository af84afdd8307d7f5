"""ingest/decisions.py: a `route <task>` span's attributes to a decision, or why not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from liveeval.ingest.decisions import decision_of
from liveeval.model import Span
from liveeval.store.routing import Decision

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GOOD: dict[str, Any] = {
    "liveeval.routing.task": "answer",
    "liveeval.routing.arm": "a",
    "liveeval.routing.probability": 1,
    "liveeval.routing.policy_version": 5,
    "liveeval.routing.decision_id": "AB" * 16,
    "liveeval.routing.slice": "*",
}


def span(attributes: dict[str, Any]) -> Span:
    return Span(
        project="shop",
        trace_id="1" * 32,
        span_id="2" * 16,
        parent_span_id=None,
        name="route answer",
        kind="internal",
        start_at=AT,
        end_at=AT,
        status_code="unset",
        status_message=None,
        attributes=attributes,
    )


def test_a_span_without_a_decision_id_is_no_decision() -> None:
    assert decision_of(span({"liveeval.routing.task": "answer"})) is None


def test_a_complete_span_is_a_decision_with_lowercase_ids() -> None:
    found = decision_of(span(GOOD | {"liveeval.routing.context.tier": 2}))
    assert found == Decision(
        decision_id="ab" * 16,
        project="shop",
        task="answer",
        arm="a",
        probability=1.0,
        policy_version=5,
        slice="*",
        decided_at=AT,
        context={"tier": "2"},
        trace_id="1" * 32,
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"liveeval.routing.decision_id": "xyz"}, "decision_id must be 32 hex digits, got 'xyz'"),
        ({"liveeval.routing.decision_id": 7}, "decision_id must be 32 hex digits, got 7"),
        ({"liveeval.routing.probability": 0.0}, "probability must be a number in (0, 1], got 0.0"),
        ({"liveeval.routing.probability": "0.5"}, "probability must be a number in (0, 1]"),
        ({"liveeval.routing.probability": True}, "probability must be a number in (0, 1]"),
        ({"liveeval.routing.probability": float("nan")}, "probability must be a number in (0, 1]"),
        ({"liveeval.routing.policy_version": 1.5}, "policy_version must be an integer, got 1.5"),
        ({"liveeval.routing.arm": ""}, "arm must be a string of 1 to 200 characters"),
        ({"liveeval.routing.task": None}, "task must be a string of 1 to 200 characters"),
        ({"liveeval.routing.goal_id": "g" * 201}, "goal_id must be a string of 1 to 200"),
    ],
)
def test_a_malformed_attribute_is_named_with_its_span(
    changes: dict[str, Any], problem: str
) -> None:
    attributes = {k: v for k, v in (GOOD | changes).items() if v is not None}
    found = decision_of(span(attributes))
    assert isinstance(found, str)
    assert found.startswith(f"span 'route answer' ({'1' * 32}/{'2' * 16}): liveeval.routing.")
    assert problem in found
