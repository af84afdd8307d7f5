"""Routing decisions, kill switches, and the outcomes that decisions earned.

A decision is stored once per decision id (from the SDK's `route <task>` span or from
POST .../choose). What it earned is read set-based from what liveeval already stores: the
`outcome` signals that name it (by decision id, by its trace, or by its goal id), the
judge score of the interactions in its trace, the thumbs-downs, regenerations and
escalations on them, and their cost and latency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.model import SignalKind
from liveeval.model.routing import TASK, Outcome
from liveeval.store.dialect import insert_ignoring_duplicates
from liveeval.store.schema import interactions, routing_decisions, routing_kills, scores, signals

IMPLICIT = (SignalKind.THUMBS_DOWN, SignalKind.REGENERATED, SignalKind.ESCALATED)
# An outcome is looked for from this long before the earliest decision asked about (an
# app's clock may be a little behind the server's).
OUTCOME_SKEW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Decision:
    """One routed request: the arm served, the probability it was drawn with, and why."""

    decision_id: str
    project: str
    task: str
    arm: str
    probability: float
    policy_version: int
    slice: str
    decided_at: datetime
    context: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    goal_id: str | None = None
    trace_id: str | None = None


@dataclass(frozen=True, slots=True)
class Kill:
    """A kill switch: `arm` gets no traffic in `slice` (and inside it) while not lifted."""

    kill_id: int
    task: str
    arm: str
    slice: str
    reason: str | None
    killed_at: datetime
    lifted_at: datetime | None = None


def record_decisions(conn: sa.Connection, decisions: Sequence[Decision]) -> None:
    """Store decisions; a decision id already stored is left as it is. An outcome signal
    that named a decision before the decision was known gets the decision's trace, so it
    attaches to the trace's interaction as other waiting signals do."""
    if not decisions:
        return
    statement = insert_ignoring_duplicates(conn, routing_decisions, ("decision_id",))
    conn.execute(statement, [_decision_row(d) for d in decisions])
    traced = {(d.project, d.decision_id): d.trace_id for d in decisions if d.trace_id}
    if not traced:
        return
    s = signals.c
    named = s.details["decision_id"].as_string()
    # Looked up in the small index of waiting signals: `kind || ''` keeps SQLite from
    # scanning every outcome signal of the project through (project, kind, occurred_at).
    waiting = sa.select(s.signal_id, s.project, named.label("decision_id")).where(
        (s.kind + "") == SignalKind.OUTCOME.value,
        s.interaction_id.is_(None),
        s.trace_id.is_(None),
        s.project.in_({project for project, _ in traced}),
        named.in_([decision_id for _, decision_id in traced]),
    )
    for signal_id, project, decision_id in conn.execute(waiting).all():
        trace_id = traced.get((project, decision_id))
        if trace_id is not None:
            update = signals.update().where(s.signal_id == signal_id)
            conn.execute(update.values(trace_id=trace_id))


def find_decision(conn: sa.Connection, project: str, decision_id: str) -> Decision | None:
    c = routing_decisions.c
    query = sa.select(routing_decisions).where(c.project == project, c.decision_id == decision_id)
    row = conn.execute(query).mappings().first()
    return _decision(row) if row else None


def decisions_between(
    conn: sa.Connection, project: str, task: str, since: datetime, until: datetime
) -> list[Decision]:
    """The task's decisions made in [since, until), oldest first."""
    query = (
        sa.select(routing_decisions)
        .where(_decided(project, task, since, until))
        .order_by(routing_decisions.c.decided_at, routing_decisions.c.decision_id)
    )
    return [_decision(row) for row in conn.execute(query).mappings()]


def add_kill(
    conn: sa.Connection,
    project: str,
    task: str,
    arm: str,
    slice_key: str,
    reason: str | None,
    now: datetime,
) -> tuple[Kill, bool]:
    """Kill `arm` in `slice_key`; (the kill, True) when new, (the active one, False) when
    the same switch is already on."""
    active = [k for k in active_kills(conn, project, task) if (k.arm, k.slice) == (arm, slice_key)]
    if active:
        return active[0], False
    values = {
        "project": project,
        "task": task,
        "arm": arm,
        "slice": slice_key,
        "reason": reason,
        "killed_at": now,
    }
    kill_id = conn.execute(
        routing_kills.insert().returning(routing_kills.c.kill_id), values
    ).scalar_one()
    return Kill(kill_id, task, arm, slice_key, reason, now), True


def lift_kill(
    conn: sa.Connection, project: str, task: str, arm: str, slice_key: str, now: datetime
) -> int:
    """Lift the active kill of `arm` in `slice_key`; the number lifted (0 or 1)."""
    c = routing_kills.c
    statement = (
        routing_kills.update()
        .where(
            c.project == project,
            c.task == task,
            c.arm == arm,
            c.slice == slice_key,
            c.lifted_at.is_(None),
        )
        .values(lifted_at=now)
    )
    return conn.execute(statement).rowcount


def active_kills(conn: sa.Connection, project: str, task: str) -> list[Kill]:
    c = routing_kills.c
    query = (
        sa.select(routing_kills)
        .where(c.project == project, c.task == task, c.lifted_at.is_(None))
        .order_by(c.kill_id)
    )
    return [_kill(row) for row in conn.execute(query).mappings()]


def kills_of(kills: Sequence[Kill]) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """(arms killed everywhere, (arm, slice) pairs killed in a slice)."""
    everywhere = frozenset(k.arm for k in kills if k.slice == TASK)
    cells = frozenset((k.arm, k.slice) for k in kills if k.slice != TASK)
    return everywhere, cells


def outcomes_between(
    conn: sa.Connection,
    project: str,
    task: str,
    since: datetime,
    until: datetime,
    *,
    score_name: str | None = None,
) -> list[Outcome]:
    """What the task's decisions made in [since, until) earned, one outcome a decision
    (whether it has what the task's reward needs is `routing.learn.usable`'s call).

    Outcome signals join a decision by the decision id in their details, by its trace,
    or by its goal id; the latest with a success value gives success, the latest with a
    quality_score the quality, else the mean `score_name` judge score of the trace's
    interactions. Implicit signals, cost and latency are those of the trace."""
    where = _decided(project, task, since, until)
    decided = {d.decision_id: d for d in decisions_between(conn, project, task, since, until)}
    if not decided:
        return []
    parts: dict[str, dict[str, Any]] = {key: {} for key in decided}
    by_trace: dict[str, list[str]] = defaultdict(list)
    by_goal: dict[str, list[str]] = defaultdict(list)
    for d in decided.values():
        if d.trace_id is not None:
            by_trace[d.trace_id].append(d.decision_id)
        if d.goal_id is not None:
            by_goal[d.goal_id].append(d.decision_id)
    for row in conn.execute(_outcome_signals(project, since)):
        for decision_id in _named(row, decided, by_trace, by_goal):
            _fold_signal(parts[decision_id], row)
    of_trace = _trace_figures(conn, project, _trace_query(where), score_name)
    outcomes = []
    for decision_id, decision in decided.items():
        got = parts[decision_id]
        figures = of_trace.get(decision.trace_id or "", {})
        outcome = Outcome(
            decision_id=decision_id,
            arm=decision.arm,
            at=got.get("at", decision.decided_at),
            context=decision.context,
            success=got.get("success"),
            quality=got.get("quality", figures.get("judge")),
            thumbs_down=SignalKind.THUMBS_DOWN in figures.get("kinds", ()),
            regenerated=SignalKind.REGENERATED in figures.get("kinds", ()),
            escalated=SignalKind.ESCALATED in figures.get("kinds", ()),
            cost_usd=figures.get("cost", 0.0),
            latency_s=figures.get("latency", 0.0),
        )
        outcomes.append(outcome)
    return outcomes


def spent_between(
    conn: sa.Connection, project: str, task: str, since: datetime, until: datetime
) -> float:
    """USD spent by the interactions in the traces of the task's decisions."""
    i = interactions.c
    traces = _trace_query(_decided(project, task, since, until))
    query = sa.select(sa.func.coalesce(sa.func.sum(i.cost_usd), 0.0)).where(
        i.project == project, i.trace_id.in_(traces)
    )
    return float(conn.execute(query).scalar_one())


def _decided(project: str, task: str, since: datetime, until: datetime) -> sa.ColumnElement[bool]:
    c = routing_decisions.c
    return sa.and_(
        c.project == project, c.task == task, c.decided_at >= since, c.decided_at < until
    )


def _trace_query(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    c = routing_decisions.c
    return sa.select(c.trace_id).where(where, c.trace_id.is_not(None)).distinct()


def _outcome_signals(project: str, since: datetime) -> sa.Select[Any]:
    """The project's outcome signals since (a day before) `since`, oldest first, with
    what may name a decision: its id, a trace, a goal. One range of an index; they are
    matched to decisions by dictionary, which no query planner can turn quadratic (a
    join on the three, or a union of three joins, compared each decision with every
    signal on SQLite)."""
    s = signals.c
    return (
        sa.select(
            s.trace_id,
            s.details["decision_id"].as_string().label("decision_id"),
            s.details["goal_id"].as_string().label("goal_id"),
            s.value,
            s.details["quality_score"].as_float().label("quality_score"),
            s.occurred_at,
        )
        .where(
            s.project == project,
            s.kind == SignalKind.OUTCOME.value,
            s.occurred_at >= since - OUTCOME_SKEW,
        )
        .order_by(s.occurred_at, s.signal_id)
    )


def _named(
    row: sa.Row[Any],
    decided: Mapping[str, Decision],
    by_trace: Mapping[str, list[str]],
    by_goal: Mapping[str, list[str]],
) -> set[str]:
    """The decisions an outcome signal names."""
    named = set(by_trace.get(row.trace_id, ())) | set(by_goal.get(row.goal_id, ()))
    if row.decision_id in decided:
        named.add(row.decision_id)
    return named


def _fold_signal(into: dict[str, Any], row: sa.Row[Any]) -> None:
    """Later signals win; `at` is when the latest outcome happened."""
    into["at"] = row.occurred_at
    if row.value is not None:
        into["success"] = row.value >= 0.5
    if row.quality_score is not None:
        into["quality"] = float(row.quality_score)


def _trace_figures(
    conn: sa.Connection, project: str, traces: sa.Select[Any], score_name: str | None
) -> dict[str, dict[str, Any]]:
    """Per trace: cost (USD) and latency (s) of its interactions, the kinds of implicit
    signal on it, and the mean judge score named `score_name`."""
    i, s, sc = interactions.c, signals.c, scores.c
    figures: dict[str, dict[str, Any]] = defaultdict(dict)
    totals = sa.select(i.trace_id, sa.func.sum(i.cost_usd), sa.func.sum(i.latency_ms)).where(
        i.project == project, i.trace_id.in_(traces)
    )
    for trace_id, cost, latency_ms in conn.execute(totals.group_by(i.trace_id)):
        figures[trace_id].update(cost=float(cost or 0.0), latency=float(latency_ms or 0.0) / 1000)
    kinds = sa.select(s.trace_id, s.kind).where(
        s.project == project, s.kind.in_([k.value for k in IMPLICIT]), s.trace_id.in_(traces)
    )
    for trace_id, kind in conn.execute(kinds.distinct()):
        figures[trace_id].setdefault("kinds", set()).add(kind)
    if score_name is not None:
        judged = (
            sa.select(i.trace_id, sa.func.avg(sc.value))
            .select_from(scores.join(interactions, sc.interaction_id == i.interaction_id))
            .where(
                i.project == project,
                i.trace_id.in_(traces),
                sc.kind == "judge",
                sc.name == score_name,
                sc.status == "ok",
                sc.value.is_not(None),
            )
            .group_by(i.trace_id)
        )
        for trace_id, mean in conn.execute(judged):
            figures[trace_id]["judge"] = float(mean)
    return figures


def _decision_row(decision: Decision) -> dict[str, Any]:
    return {
        "decision_id": decision.decision_id,
        "project": decision.project,
        "task": decision.task,
        "arm": decision.arm,
        "probability": decision.probability,
        "policy_version": decision.policy_version,
        "slice": decision.slice,
        "context": decision.context,
        "session_id": decision.session_id,
        "goal_id": decision.goal_id,
        "trace_id": decision.trace_id,
        "decided_at": decision.decided_at,
    }


def _decision(row: sa.RowMapping) -> Decision:
    return Decision(
        decision_id=row["decision_id"],
        project=row["project"],
        task=row["task"],
        arm=row["arm"],
        probability=row["probability"],
        policy_version=row["policy_version"],
        slice=row["slice"],
        decided_at=row["decided_at"],
        context=dict(row["context"] or {}),
        session_id=row["session_id"],
        goal_id=row["goal_id"],
        trace_id=row["trace_id"],
    )


def _kill(row: sa.RowMapping) -> Kill:
    return Kill(
        kill_id=row["kill_id"],
        task=row["task"],
        arm=row["arm"],
        slice=row["slice"],
        reason=row["reason"],
        killed_at=row["killed_at"],
        lifted_at=row["lifted_at"],
    )
