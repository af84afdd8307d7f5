"""store/routing.py on SQLite and PostgreSQL: decisions stored once, kill switches, and the
outcomes decisions earned, read from outcome signals (by decision id, trace and goal),
judge scores, implicit signals, cost and latency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from liveeval.model import Score, ScoreKind, Signal, SignalKind
from liveeval.routing.config import TaskConfig, from_mapping
from liveeval.routing.stored import rewarded
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.routing import (
    Decision,
    active_kills,
    add_kill,
    decisions_between,
    kills_of,
    lift_kill,
    record_decisions,
    spent_between,
)
from liveeval.store.schema import signals
from liveeval.store.scores import insert_score
from liveeval.store.signals import record_signal
from tests.store.stored import chat_interaction
from tests.telemetry import trace_id

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
PROJECT = "shop"


def config(**reward: object) -> TaskConfig:
    return from_mapping(
        "answer",
        {
            "default": "a",
            "arms": [{"name": "a", "model": "m-a"}, {"name": "b", "model": "m-b"}],
            "reward": reward or {"kind": "success"},
        },
    )


def decision(n: int, arm: str = "a", **fields: object) -> Decision:
    values: dict[str, object] = {
        "decision_id": f"{n:032x}",
        "project": PROJECT,
        "task": "answer",
        "arm": arm,
        "probability": 0.5,
        "policy_version": 7,
        "slice": "*",
        "decided_at": T0 + timedelta(seconds=n),
        "context": {"language": "de"},
    }
    return Decision(**{**values, **fields})  # type: ignore[arg-type]


def outcome_signal(at: datetime = LATER, **fields: object) -> Signal:
    return Signal(project=PROJECT, kind=SignalKind.OUTCOME, occurred_at=at, **fields)  # type: ignore[arg-type]


def test_a_decision_is_stored_once_per_id(store: Store) -> None:
    with store.writing() as conn:
        record_decisions(conn, [decision(1), decision(2, "b")])
        record_decisions(conn, [decision(1, "b", probability=0.9)])
        found = decisions_between(conn, PROJECT, "answer", T0, LATER)
    assert [(d.decision_id, d.arm, d.probability) for d in found] == [
        (f"{1:032x}", "a", 0.5),
        (f"{2:032x}", "b", 0.5),
    ]
    assert found[0].context == {"language": "de"} and found[0].decided_at == T0 + timedelta(
        1 / 86400
    )


def test_outcome_signals_join_by_decision_id_trace_and_goal(store: Store) -> None:
    trace = trace_id()
    with store.writing() as conn:
        record_decisions(
            conn,
            [
                decision(1),
                decision(2, "b", trace_id=trace),
                decision(3, goal_id="g-1"),
                decision(4, "b", goal_id="g-1"),
                decision(5),  # no outcome: not counted
            ],
        )
        record_signal(conn, outcome_signal(value=1.0, details={"decision_id": f"{1:032x}"}), T0)
        record_signal(conn, outcome_signal(value=0.0, trace_id=trace), T0)
        record_signal(conn, outcome_signal(value=1.0, details={"goal_id": "g-1"}), T0)
        record_signal(conn, outcome_signal(value=1.0, details={"goal_id": "other"}), T0)
        found = rewarded(conn, PROJECT, config(), T0, LATER)
    assert [(o.decision_id[-1], o.arm, o.success, o.at) for o in found] == [
        ("1", "a", True, LATER),
        ("2", "b", False, LATER),
        ("3", "a", True, LATER),
        ("4", "b", True, LATER),
    ]


def test_the_latest_outcome_of_a_decision_wins(store: Store) -> None:
    with store.writing() as conn:
        record_decisions(conn, [decision(1)])
        named = {"decision_id": f"{1:032x}"}
        record_signal(conn, outcome_signal(LATER, value=0.0, details=named), T0)
        record_signal(conn, outcome_signal(LATER + timedelta(1), value=1.0, details=named), T0)
        [found] = rewarded(conn, PROJECT, config(), T0, LATER)
    assert found.success is True and found.at == LATER + timedelta(1)


def test_the_trace_gives_judge_quality_implicit_signals_cost_and_latency(store: Store) -> None:
    trace, bare = trace_id(), trace_id()
    calls = [
        chat_interaction(T0, PROJECT, trace_id=trace, cost_usd=0.01, latency_ms=400.0),
        chat_interaction(T0, PROJECT, trace_id=trace, cost_usd=0.02, latency_ms=600.0),
        chat_interaction(T0, PROJECT, trace_id=bare, cost_usd=0.5, latency_ms=100.0),
    ]
    task = config(kind="score", success_weight=0.0, quality_weight=1.0, score_name="helpful")
    with store.writing() as conn:
        ids = upsert_interactions(conn, calls, T0)
        first, second = (ids[(c.trace_id, c.span_id)] for c in calls[:2])
        for interaction_id, name, value in [
            (first, "helpful", 0.6),
            (second, "helpful", 1.0),
            (second, "other", 0.0),
        ]:
            score = Score(PROJECT, interaction_id, name, ScoreKind.JUDGE, value, created_at=T0)
            insert_score(conn, score, None)
        for kind in (SignalKind.THUMBS_DOWN, SignalKind.ESCALATED):
            signal = Signal(PROJECT, kind, T0, interaction_id=second, trace_id=trace)
            record_signal(conn, signal, T0)
        record_decisions(conn, [decision(1, trace_id=trace), decision(2, "b", trace_id=bare)])
        found = rewarded(conn, PROJECT, task, T0, LATER)
        spent = spent_between(conn, PROJECT, "answer", T0, LATER)
        unnamed = config(kind="score", success_weight=0.0, quality_weight=1.0)
        without_score = rewarded(conn, PROJECT, unnamed, T0, LATER)
    [judged] = found  # the bare trace has no judge score: no quality, not counted
    assert judged.quality == pytest.approx(0.8)
    assert (judged.thumbs_down, judged.escalated, judged.regenerated) == (True, True, False)
    assert judged.cost_usd == pytest.approx(0.03) and judged.latency_s == pytest.approx(1.0)
    assert spent == pytest.approx(0.53)
    assert without_score == []


def test_a_posted_quality_score_wins_over_the_judge(store: Store) -> None:
    task = config(kind="score", success_weight=1.0, quality_weight=1.0)
    with store.writing() as conn:
        record_decisions(conn, [decision(1)])
        details = {"decision_id": f"{1:032x}", "quality_score": 0.25}
        record_signal(conn, outcome_signal(details=details), T0)
        [found] = rewarded(conn, PROJECT, task, T0, LATER)
    assert (found.success, found.quality) == (None, 0.25)


def test_other_projects_and_tasks_and_times_are_left_out(store: Store) -> None:
    with store.writing() as conn:
        record_decisions(
            conn,
            [
                decision(1, project="elsewhere"),
                decision(2, task="other"),
                decision(3, decided_at=LATER),
            ],
        )
        for n in (1, 2, 3):
            record_signal(conn, outcome_signal(value=1.0, details={"decision_id": f"{n:032x}"}), T0)
        assert rewarded(conn, PROJECT, config(), T0, LATER) == []


def test_kill_switches_are_added_once_and_lifted(store: Store) -> None:
    with store.writing() as conn:
        first, new = add_kill(conn, PROJECT, "answer", "a", "*", "broken", T0)
        again, again_new = add_kill(conn, PROJECT, "answer", "a", "*", "twice", T0)
        add_kill(conn, PROJECT, "answer", "b", "language=de", None, T0)
        add_kill(conn, "elsewhere", "answer", "b", "*", None, T0)
        assert (new, again_new, again.kill_id) == (True, False, first.kill_id)
        active = active_kills(conn, PROJECT, "answer")
        assert kills_of(active) == (frozenset({"a"}), frozenset({("b", "language=de")}))
        assert lift_kill(conn, PROJECT, "answer", "a", "*", LATER) == 1
        assert lift_kill(conn, PROJECT, "answer", "a", "*", LATER) == 0
        assert [(k.arm, k.slice) for k in active_kills(conn, PROJECT, "answer")] == [
            ("b", "language=de")
        ]


def test_an_outcome_before_its_decision_gets_the_decisions_trace(store: Store) -> None:
    trace = trace_id()
    named = {"decision_id": f"{1:032x}"}
    with store.writing() as conn:
        early = record_signal(conn, outcome_signal(value=1.0, details=named), T0).signal_id
        other = record_signal(conn, outcome_signal(value=1.0, details={"goal_id": "g"}), T0)
        record_decisions(conn, [decision(1, trace_id=trace)])
        traces = dict(conn.execute(sa.select(signals.c.signal_id, signals.c.trace_id)).all())
    assert traces == {early: trace, other.signal_id: None}
