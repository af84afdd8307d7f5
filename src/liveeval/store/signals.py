"""Signals: stored at once, attached to their interaction now or when its span arrives.

A signal names its interaction by id, by response id, or by trace id. By trace id
it attaches to the trace's last-ending LLM interaction (the answer the user saw).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model import Signal, SignalKind
from liveeval.store.dialect import insert_ignoring_duplicates
from liveeval.store.schema import interactions, signals


@dataclass(frozen=True, slots=True)
class Recorded:
    signal_id: int
    interaction_id: int | None
    duplicate: bool  # the idempotency key was seen before; nothing new was stored


def find_target(
    conn: sa.Connection, project: str, *, trace_id: str | None, response_id: str | None
) -> tuple[int, str] | None:
    """(interaction_id, trace_id) of the interaction a signal names, if it is stored yet."""
    c = interactions.c
    if response_id is not None:
        where = sa.and_(c.project == project, c.response_id == response_id)
    elif trace_id is not None:
        where = sa.and_(c.project == project, c.trace_id == trace_id)
    else:
        return None
    query = (
        sa.select(c.interaction_id, c.trace_id)
        .where(where)
        .order_by(c.end_at.desc(), c.interaction_id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return (row.interaction_id, row.trace_id) if row else None


def record_signal(conn: sa.Connection, signal: Signal, received_at: datetime) -> Recorded:
    """Store a signal once per idempotency key, attached if its interaction is known."""
    if signal.idempotency_key is not None:
        existing = _by_key(conn, signal.project, signal.idempotency_key)
        if existing is not None:
            return existing
    row = _row(signal, received_at)
    if signal.idempotency_key is not None:
        statement = insert_ignoring_duplicates(conn, signals, ("project", "idempotency_key"))
        result = conn.execute(statement.returning(signals.c.signal_id), row).first()
        if result is None:  # a concurrent post with the same key won
            existing = _by_key(conn, signal.project, signal.idempotency_key)
            assert existing is not None
            return existing
        signal_id = result.signal_id
    else:
        signal_id = conn.execute(signals.insert().returning(signals.c.signal_id), row).scalar_one()
    return Recorded(signal_id, signal.interaction_id, duplicate=False)


def _by_key(conn: sa.Connection, project: str, key: str) -> Recorded | None:
    query = sa.select(signals.c.signal_id, signals.c.interaction_id).where(
        signals.c.project == project, signals.c.idempotency_key == key
    )
    row = conn.execute(query).first()
    return Recorded(row.signal_id, row.interaction_id, duplicate=True) if row else None


def _row(signal: Signal, received_at: datetime) -> dict[str, Any]:
    return {
        "project": signal.project,
        "interaction_id": signal.interaction_id,
        "trace_id": signal.trace_id,
        "response_id": signal.response_id,
        "kind": signal.kind.value,
        "value": signal.value,
        "text": signal.text,
        "details": signal.details,
        "user_id": signal.user_id,
        "idempotency_key": signal.idempotency_key,
        "occurred_at": signal.occurred_at,
        "received_at": received_at,
    }


def attach_pending(
    conn: sa.Connection,
    project: str,
    trace_ids: Collection[str],
    response_ids: Collection[str],
    *,
    claim_from: str | None = None,
) -> list[tuple[int, str]]:
    """Attach signals that arrived before their span to interactions now stored; returns
    the (interaction id, signal kind) of each signal attached.

    Signals waiting in `claim_from` (an open server's default project, where a signal
    sent without naming a project waits) are claimed too, and move to `project`.
    """
    c = signals.c
    projects = {project} if claim_from is None else {project, claim_from}
    waiting = sa.select(c.signal_id).where(c.project.in_(projects), c.interaction_id.is_(None))
    if conn.execute(waiting.limit(1)).first() is None:
        return []  # the usual case, answered from the small partial index of waiting signals
    pending = conn.execute(
        sa.select(
            c.signal_id, c.project, c.trace_id, c.response_id, c.idempotency_key, c.kind
        ).where(
            c.project.in_(projects),
            c.interaction_id.is_(None),
            sa.or_(c.trace_id.in_(list(trace_ids)), c.response_id.in_(list(response_ids))),
        )
    ).all()
    attached = []
    for signal_id, signal_project, trace_id, response_id, key, kind in pending:
        target = find_target(conn, project, trace_id=trace_id, response_id=response_id)
        if target is None:
            continue
        values: dict[str, Any] = {"interaction_id": target[0], "trace_id": target[1]}
        if signal_project != project:
            if key is not None and _by_key(conn, project, key) is not None:
                continue  # its idempotency key is taken there: leave it waiting
            values["project"] = project
        conn.execute(signals.update().where(c.signal_id == signal_id).values(**values))
        attached.append((target[0], kind))
    return attached


def list_signals(conn: sa.Connection, interaction_ids: Sequence[int]) -> list[Signal]:
    if not interaction_ids:
        return []
    query = (
        sa.select(signals)
        .where(signals.c.interaction_id.in_(list(interaction_ids)))
        .order_by(signals.c.occurred_at, signals.c.signal_id)
    )
    return [signal_from_row(row) for row in conn.execute(query).mappings()]


def signal_from_row(row: sa.RowMapping) -> Signal:
    return Signal(
        signal_id=row["signal_id"],
        project=row["project"],
        kind=SignalKind(row["kind"]),
        interaction_id=row["interaction_id"],
        trace_id=row["trace_id"],
        response_id=row["response_id"],
        value=row["value"],
        text=row["text"],
        details=row["details"],
        user_id=row["user_id"],
        idempotency_key=row["idempotency_key"],
        occurred_at=row["occurred_at"],
        received_at=row["received_at"],
    )
