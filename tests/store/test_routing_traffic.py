"""Decisions per UTC hour and arm, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from liveeval.store.database import Store
from liveeval.store.routing import Decision, record_decisions
from liveeval.store.routing_traffic import HourCount, decisions_per_hour

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def decision(number: int, arm: str, at: datetime, task: str = "answer") -> Decision:
    return Decision(
        decision_id=f"{number:032x}",
        project="shop",
        task=task,
        arm=arm,
        probability=0.5,
        policy_version=1,
        slice="*",
        decided_at=at,
    )


def test_decisions_are_counted_per_utc_hour_and_arm_within_the_window(store: Store) -> None:
    berlin = timezone(timedelta(hours=1))
    made = [
        decision(1, "a", T0 + timedelta(minutes=1)),
        decision(2, "a", T0 + timedelta(minutes=59, seconds=59)),
        decision(3, "b", T0 + timedelta(minutes=30)),
        decision(4, "b", (T0 + timedelta(hours=1, minutes=5)).astimezone(berlin)),
        decision(5, "a", T0 - timedelta(minutes=1)),  # before the window
        decision(6, "a", T0 + timedelta(hours=2)),  # at its end: excluded
        decision(7, "a", T0 + timedelta(minutes=2), task="other"),
    ]
    with store.writing() as conn:
        record_decisions(conn, made)
    with store.reading() as conn:
        counted = decisions_per_hour(conn, "shop", "answer", T0, T0 + timedelta(hours=2))
        elsewhere = decisions_per_hour(conn, "other-project", "answer", T0, T0 + timedelta(1))
    assert counted == [
        HourCount(T0, "a", 2),
        HourCount(T0, "b", 1),
        HourCount(T0 + timedelta(hours=1), "b", 1),
    ]
    assert elsewhere == []
