"""Retention in the store: purge the content of old interactions, one bounded batch at a time.

The interaction row stays: scores, sampling decisions and review items reference it
(ON DELETE CASCADE would take them along) and the rollups are rebuilt from its slice
columns. What goes is what quotes the user: the texts, messages, retrieved context,
tool calls, tags, metadata, error text, user and session ids, the raw spans and GenAI
log events of its trace, and the text, user id and details of its signals.

A trace's spans are deleted only once no interaction of that trace started at or after
the cutoff: a span never belongs to an interaction still inside retention, even when
the trace began before the cutoff (a long agent run). Deleting by span start time
would take the retriever span of a recent interaction whose trace began earlier.

The writing functions each do one bounded batch, for one short write transaction; the
caller (flywheel/retention.py) loops, so SQLite's single writer is never held for long.
The reading ones (`purge_start`, `late_signals`, `count_*`) walk more rows and belong
in read transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from liveeval.store.schema import (
    evaluation_queue,
    interactions,
    judge_cache,
    judge_jobs,
    log_events,
    signals,
    spans,
)

CHUNK = 500  # ids per IN list: far below SQLite's bound on parameters
PURGED_JOB_ERROR = "content purged by retention before the job ran"
Cursor = tuple[datetime, int]  # (start_at, interaction_id) of the last interaction taken

# What an interaction keeps is every other column: ids, times, latency, status, provider,
# models, prompt version, route, segment, token counts, cost, finish reasons.
CLEARED: dict[str, Any] = {
    "input_text": None,
    "output_text": None,
    "error": None,  # an error message can quote the input
    "user_id": None,
    "session_id": None,
    "input_messages": [],
    "output_messages": [],
    "retrieved_context": [],
    "tool_calls": [],
    "tags": [],
    "metadata": {},
}


@dataclass(frozen=True, slots=True)
class Purged:
    """What one batch (or a whole run) purged, or a dry run would."""

    interactions: int = 0  # content cleared
    spans: int = 0  # deleted
    log_events: int = 0  # deleted
    signals: int = 0  # text, user id and details cleared
    pending_signals: int = 0  # deleted: never attached, older than the cutoff
    judge_jobs: int = 0  # queued jobs dead-lettered: nothing is left to judge
    queued_evaluations: int = 0  # evaluation-queue rows dropped: nothing is left to check

    def __add__(self, other: Purged) -> Purged:
        return Purged(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def total(self) -> int:
        return sum(astuple(self))


@dataclass(frozen=True, slots=True)
class Batch:
    purged: Purged
    last: Cursor | None  # the next batch starts after this
    more: bool  # a limit was reached: there may be more to purge


def purge_before(
    conn: sa.Connection,
    project: str,
    cutoff: datetime,
    limit: int,
    *,
    now: datetime | None = None,
    after: Cursor | None = None,
) -> Batch:
    """Purge up to `limit` interactions of `project` that started before `cutoff` (oldest
    first, after the cursor `after`), and up to `limit` pending signals older than it.

    Idempotent: purged interactions carry `content_purged_at` and are skipped. The
    cursor spares each batch of a run from stepping over the rows purged before it.
    """
    now = now or datetime.now(UTC)
    c = interactions.c
    where = [c.project == project, c.start_at < cutoff, c.content_purged_at.is_(None)]
    if after is not None:
        # `start_at >= …` on its own, so the index range starts at the cursor (an OR alone
        # would make SQLite walk the purged rows before it again).
        where += [
            c.start_at >= after[0],
            sa.or_(c.start_at > after[0], c.interaction_id > after[1]),
        ]
    taken = conn.execute(
        sa.select(c.interaction_id, c.trace_id, c.start_at)
        .where(*where)
        .order_by(c.start_at, c.interaction_id)
        .limit(limit)
    ).all()
    ids = [row.interaction_id for row in taken]
    purged = _purge_interactions(conn, project, cutoff, ids, {row.trace_id for row in taken}, now)
    pending = _delete_pending_signals(conn, project, cutoff, limit)
    last = (taken[-1].start_at, taken[-1].interaction_id) if taken else after
    more = len(taken) == limit or pending == limit
    return Batch(purged + Purged(pending_signals=pending), last, more)


def _purge_interactions(
    conn: sa.Connection,
    project: str,
    cutoff: datetime,
    ids: Sequence[int],
    trace_ids: Collection[str],
    now: datetime,
) -> Purged:
    if not ids:
        return Purged()
    cleared = jobs = queued = scrubbed = 0
    for chunk in _chunks(ids):
        cleared += conn.execute(
            interactions.update()
            .where(
                interactions.c.interaction_id.in_(chunk),
                interactions.c.content_purged_at.is_(None),
            )
            .values({**CLEARED, "content_purged_at": now})
        ).rowcount
        scrubbed += _scrub_signals(conn, signals.c.interaction_id.in_(chunk))
        jobs += conn.execute(
            judge_jobs.update()
            .where(judge_jobs.c.interaction_id.in_(chunk), judge_jobs.c.state == "queued")
            .values(
                state="dead", finished_at=now, lease_expires_at=None, last_error=PURGED_JOB_ERROR
            )
        ).rowcount
        queued += conn.execute(
            evaluation_queue.delete().where(evaluation_queue.c.interaction_id.in_(chunk))
        ).rowcount
    gone = sorted(set(trace_ids) - _traces_still_kept(conn, project, trace_ids, cutoff))
    deleted_spans = deleted_events = 0
    for chunk in _chunks(gone):
        deleted_spans += conn.execute(
            spans.delete().where(spans.c.project == project, spans.c.trace_id.in_(chunk))
        ).rowcount
        deleted_events += conn.execute(
            log_events.delete().where(
                log_events.c.project == project, log_events.c.trace_id.in_(chunk)
            )
        ).rowcount
    return Purged(cleared, deleted_spans, deleted_events, scrubbed, 0, jobs, queued)


def _traces_still_kept(
    conn: sa.Connection, project: str, trace_ids: Collection[str], cutoff: datetime
) -> set[str]:
    """The traces with an interaction inside retention: their spans stay.

    Compared here rather than in SQL: given `start_at >= cutoff`, SQLite's planner walks
    the (project, start_at) index through every recent interaction instead of looking
    the few of each trace up by (project, trace_id).
    """
    kept: set[str] = set()
    c = interactions.c
    for chunk in _chunks(sorted(trace_ids)):
        query = sa.select(c.trace_id, c.start_at).where(c.project == project, c.trace_id.in_(chunk))
        kept.update(trace for trace, start_at in conn.execute(query) if start_at >= cutoff)
    return kept


def _signal_content() -> sa.ColumnElement[bool]:
    """A signal that still holds something the user wrote or is (JSON {} reads back as
    '{}' on both dialects: SQLite keeps the text, PostgreSQL's jsonb prints it so)."""
    return sa.or_(
        signals.c.text.is_not(None),
        signals.c.user_id.is_not(None),
        sa.cast(signals.c.details, sa.Text) != "{}",
    )


def _scrub_signals(conn: sa.Connection, which: sa.ColumnElement[bool]) -> int:
    """Keep kind, value and times (the rates need them); drop text, user id and details
    (comments, report reasons, edited drafts, app metadata)."""
    return conn.execute(
        signals.update().where(which, _signal_content()).values(text=None, user_id=None, details={})
    ).rowcount


def _pending_signals(project: str, cutoff: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        signals.c.project == project,
        signals.c.interaction_id.is_(None),
        signals.c.occurred_at < cutoff,
    ]


def _delete_pending_signals(conn: sa.Connection, project: str, cutoff: datetime, limit: int) -> int:
    """Signals that found no interaction before the cutoff: nothing will count them, and
    they hold what the user wrote."""
    # Ordered as ix_signals_pending is, so that SQLite reads the few pending rows by it
    # rather than every signal of the project by (project, kind, occurred_at).
    doomed = (
        sa.select(signals.c.signal_id)
        .where(*_pending_signals(project, cutoff))
        .order_by(signals.c.trace_id, signals.c.response_id)
        .limit(limit)
    )
    ids = list(conn.execute(doomed).scalars())
    return sum(
        conn.execute(signals.delete().where(signals.c.signal_id.in_(chunk))).rowcount
        for chunk in _chunks(ids)
    )


def _late_signals(project: str) -> sa.Select[Any]:
    purged = sa.select(interactions.c.interaction_id).where(
        interactions.c.interaction_id == signals.c.interaction_id,
        interactions.c.content_purged_at.is_not(None),
    )
    return sa.select(signals.c.signal_id).where(
        signals.c.project == project, signals.c.interaction_id.is_not(None), purged.exists()
    )


def late_signals(conn: sa.Connection, project: str, limit: int) -> list[int]:
    """Signals that arrived after their interaction was purged (late feedback) and still
    hold content: up to `limit` ids, for `scrub_signals`.

    Reads every attached signal of the project (signals are far fewer than
    interactions): run it in a read transaction, once per run.
    """
    query = _late_signals(project).where(_signal_content()).limit(limit)
    return list(conn.execute(query).scalars())


def scrub_signals(conn: sa.Connection, signal_ids: Sequence[int]) -> int:
    """Clear text, user id and details of these signals (those that still hold any)."""
    return sum(
        _scrub_signals(conn, signals.c.signal_id.in_(chunk)) for chunk in _chunks(signal_ids)
    )


def purge_start(conn: sa.Connection, project: str, cutoff: datetime) -> Cursor | None:
    """A cursor just before the oldest interaction due for purging; None: nothing is due.

    Finding it steps over every interaction purged before (the index has no notion of
    purged): done in a read transaction, it keeps that walk out of the write lock.
    """
    c = interactions.c
    first = conn.execute(
        sa.select(c.start_at, c.interaction_id)
        .where(c.project == project, c.start_at < cutoff, c.content_purged_at.is_(None))
        .order_by(c.start_at, c.interaction_id)
        .limit(1)
    ).first()
    return None if first is None else (first.start_at, first.interaction_id - 1)


def purge_judge_cache(conn: sa.Connection, before: datetime, limit: int) -> int:
    """Delete up to `limit` cached verdicts written before `before`.

    The cache has no project and keys on a hash of the very content retention deletes;
    its explanations may quote it. Losing an entry costs one judgment at most.
    """
    keys = list(
        conn.execute(
            sa.select(judge_cache.c.cache_key).where(judge_cache.c.created_at < before).limit(limit)
        ).scalars()
    )
    return sum(
        conn.execute(judge_cache.delete().where(judge_cache.c.cache_key.in_(chunk))).rowcount
        for chunk in _chunks(keys)
    )


def count_judge_cache(conn: sa.Connection, before: datetime) -> int:
    query = sa.select(sa.func.count()).where(judge_cache.c.created_at < before)
    return int(conn.execute(query).scalar_one())


def count_purgeable(conn: sa.Connection, project: str, cutoff: datetime) -> Purged:
    """What purging `project` at `cutoff` would do now (a dry run): read-only."""
    c = interactions.c
    old = [c.project == project, c.start_at < cutoff, c.content_purged_at.is_(None)]
    due = sa.select(c.interaction_id).where(*old)
    # Traces with a due interaction and none inside retention (one pass over the
    # project's interactions in (project, trace_id) order, no per-trace probe).
    traces = (
        sa.select(c.trace_id)
        .where(c.project == project)
        .group_by(c.trace_id)
        .having(
            sa.func.max(c.start_at) < cutoff,
            sa.func.count() > sa.func.count(c.content_purged_at),
        )
    )

    def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )

    late = count(signals, signals.c.signal_id.in_(_late_signals(project)), _signal_content())
    return Purged(
        interactions=count(interactions, *old),
        spans=count(spans, spans.c.project == project, spans.c.trace_id.in_(traces)),
        log_events=count(
            log_events, log_events.c.project == project, log_events.c.trace_id.in_(traces)
        ),
        signals=count(signals, signals.c.interaction_id.in_(due), _signal_content()) + late,
        pending_signals=count(signals, *_pending_signals(project, cutoff)),
        judge_jobs=count(
            judge_jobs, judge_jobs.c.interaction_id.in_(due), judge_jobs.c.state == "queued"
        ),
        queued_evaluations=count(evaluation_queue, evaluation_queue.c.interaction_id.in_(due)),
    )


_DISTINCT_PROJECTS = """
WITH RECURSIVE found(project) AS (
    SELECT MIN(project) FROM {table} WHERE {where}
    UNION ALL
    SELECT (SELECT MIN(project) FROM {table} WHERE {where} AND project > found.project)
    FROM found WHERE found.project IS NOT NULL
)
SELECT project FROM found WHERE project IS NOT NULL
"""


def stored_projects(conn: sa.Connection) -> list[str]:
    """Every project with interactions or pending signals, in name order.

    A skip scan (one index probe per project), not a DISTINCT over millions of rows.
    """
    found: set[str] = set()
    for table, where in (("interactions", "1 = 1"), ("signals", "interaction_id IS NULL")):
        sql = _DISTINCT_PROJECTS.format(table=table, where=where)
        found.update(conn.execute(sa.text(sql)).scalars())
    return sorted(found)


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])
