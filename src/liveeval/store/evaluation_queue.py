"""Interactions waiting for their checks and sampling decision (background evaluation)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from liveeval.store.dialect import bulk_insert, db_time
from liveeval.store.driver_rows import columns_of, fetch_all, ids, in_ids
from liveeval.store.schema import evaluation_queue


def enqueue(
    conn: sa.Connection, project: str, interaction_ids: Iterable[int], now: datetime
) -> None:
    """Queue these interactions; one queued already moves to `now`."""
    as_time = db_time(conn)(now)
    rows = [(iid, project, as_time) for iid in sorted(set(interaction_ids))]
    bulk_insert(
        conn,
        evaluation_queue,
        ("interaction_id", "project", "enqueued_at"),
        rows,
        ("interaction_id",),
        update=("enqueued_at",),
    )


def pending(conn: sa.Connection, limit: int) -> list[tuple[int, datetime]]:
    """The first queued interactions, by id (ids grow with arrival, so the oldest first):
    (interaction_id, enqueued_at). Read along the primary key: ordering by `enqueued_at`,
    which has no index, sorted the whole queue for every batch taken. Plain SQL through
    the driver: the evaluator asks for every batch."""
    dialect = conn.dialect.name
    columns = columns_of(evaluation_queue, dialect, ("interaction_id", "enqueued_at"))
    placeholder = "?" if dialect == "sqlite" else "%s"
    sql = (
        "SELECT interaction_id, enqueued_at FROM evaluation_queue "
        f"ORDER BY interaction_id LIMIT {placeholder}"
    )
    taken = (columns.mapping(row) for row in fetch_all(conn, sql, (limit,)))
    return [(row["interaction_id"], row["enqueued_at"]) for row in taken]


def done(conn: sa.Connection, taken: Sequence[tuple[int, datetime]]) -> None:
    """Remove what was evaluated, unless it was queued again since (re-assembled).

    One primary-key probe a row, pipelined on PostgreSQL: a set-based DELETE … USING
    unnest(…) is planned as a sequential scan of the whole queue once the queue holds
    ~50k rows and the batch 256."""
    if not taken:
        return
    as_time = db_time(conn)
    placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        "DELETE FROM evaluation_queue "
        f"WHERE interaction_id = {placeholder} AND enqueued_at = {placeholder}",
        [(iid, as_time(at)) for iid, at in taken],
    )


def count(conn: sa.Connection, project: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(evaluation_queue)
    if project is not None:
        query = query.where(evaluation_queue.c.project == project)
    return int(conn.execute(query).scalar_one())


def backlog(conn: sa.Connection, project: str | None, now: datetime) -> tuple[int, float]:
    """(interactions waiting, seconds the first of them has waited): how far the checks,
    features and sampling are behind ingest. 0 seconds when nothing waits."""
    c = evaluation_queue.c
    first = sa.select(c.enqueued_at).order_by(c.interaction_id).limit(1)
    if project is not None:
        first = first.where(c.project == project)
    oldest = conn.execute(first).scalar_one_or_none()
    if oldest is None:
        return 0, 0.0
    return count(conn, project), max(0.0, (now - oldest).total_seconds())


def signal_kinds(conn: sa.Connection, interaction_ids: Collection[int]) -> dict[int, set[str]]:
    """The kinds of signal each interaction has drawn so far (plain SQL through the driver:
    SQLAlchemy's compiling of an IN list cost more than the query)."""
    if not interaction_ids:
        return {}
    wanted = list(interaction_ids)
    dialect = conn.dialect.name
    where = in_ids(dialect, len(wanted))
    sql = f"SELECT interaction_id, kind FROM signals WHERE interaction_id {where}"
    found: dict[int, set[str]] = {}
    for iid, kind in fetch_all(conn, sql, ids(dialect, wanted)):
        found.setdefault(iid, set()).add(kind)
    return found
