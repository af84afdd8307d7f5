"""The judge job queue: durable, in the store, shared by any number of workers.

A job is claimed with a short lease that its worker renews while it works on it
(`renew`, a heartbeat); the worker acks it with the score it wrote, or fails it,
which schedules a retry with backoff until the attempts run out and the job is
dead-lettered. A worker that dies stops renewing; its lease expires soon after and
the job is claimed again. On PostgreSQL workers claim with `FOR UPDATE SKIP LOCKED`;
on SQLite the store's single writer lock makes the claim exclusive.

One job per (interaction, rubric, judge version), and the job's score is keyed by
the same triple, so neither a duplicate enqueue nor a retry ever scores twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.model import Score
from liveeval.store.dialect import bulk_insert, clip, db_time, string_widths
from liveeval.store.schema import judge_jobs
from liveeval.store.scores import insert_score

QUEUED, LEASED, DONE, DEAD = "queued", "leased", "done", "dead"
NEW_JOB_COLUMNS = (
    "project",
    "interaction_id",
    "rubric",
    "judge_version",
    "priority",
    "reason",
    "state",
    "attempts",
    "available_at",
    "created_at",
)
WIDTHS = string_widths(judge_jobs, NEW_JOB_COLUMNS)


@dataclass(frozen=True, slots=True)
class NewJob:
    project: str
    interaction_id: int
    rubric: str
    judge_version: str
    priority: int
    reason: str


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    project: str
    interaction_id: int
    rubric: str
    judge_version: str
    priority: int
    reason: str
    attempts: int  # including the current one
    lease_expires_at: datetime | None


def score_key(interaction_id: int, rubric: str, judge_version: str) -> str:
    """The dedup key of a judge score: one per (interaction, rubric, judge version)."""
    return f"judge:{interaction_id}:{rubric}:{judge_version}"


def enqueue(conn: sa.Connection, jobs: Sequence[NewJob], now: datetime) -> None:
    """Add jobs; one already queued or done for the same triple is left as it is."""
    as_time = db_time(conn)
    at = as_time(now)
    rows = [
        clip(
            (
                job.project,
                job.interaction_id,
                job.rubric,
                job.judge_version,
                job.priority,
                job.reason,
                QUEUED,
                0,
                at,
                at,
            ),
            WIDTHS,
        )
        for job in jobs
    ]
    bulk_insert(
        conn, judge_jobs, NEW_JOB_COLUMNS, rows, ("interaction_id", "rubric", "judge_version")
    )


def claim(
    conn: sa.Connection, worker: str, limit: int, now: datetime, lease: timedelta
) -> list[Job]:
    """Lease up to `limit` due jobs, most urgent first: queued ones whose time has come,
    and leased ones whose lease expired (their worker died or hung)."""
    c = judge_jobs.c
    due = sa.or_(
        sa.and_(c.state == QUEUED, c.available_at <= now),
        sa.and_(c.state == LEASED, c.lease_expires_at < now),
    )
    query = sa.select(c.job_id).where(due).order_by(c.priority, c.available_at).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    expires = now + lease
    conn.execute(
        judge_jobs.update()
        .where(c.job_id.in_(ids))
        .values(state=LEASED, attempts=c.attempts + 1, lease_expires_at=expires, leased_by=worker)
    )
    rows = conn.execute(
        sa.select(judge_jobs).where(c.job_id.in_(ids)).order_by(c.priority, c.job_id)
    ).mappings()
    return [
        Job(
            job_id=row["job_id"],
            project=row["project"],
            interaction_id=row["interaction_id"],
            rubric=row["rubric"],
            judge_version=row["judge_version"],
            priority=row["priority"],
            reason=row["reason"],
            attempts=row["attempts"],
            lease_expires_at=row["lease_expires_at"],
        )
        for row in rows
    ]


def renew(
    conn: sa.Connection, worker: str, job_ids: Sequence[int], now: datetime, lease: timedelta
) -> int:
    """Extend the leases `worker` still holds on these jobs to now + lease (its heartbeat);
    how many it still held. A job whose lease ran out and was claimed again is not its."""
    if not job_ids:
        return 0
    c = judge_jobs.c
    renewed = conn.execute(
        judge_jobs.update()
        .where(c.job_id.in_(job_ids), c.state == LEASED, c.leased_by == worker)
        .values(lease_expires_at=now + lease)
    )
    return renewed.rowcount


def complete(conn: sa.Connection, job: Job, score: Score, now: datetime) -> int:
    """Write the job's score (once, whoever finishes first) and mark the job done."""
    score_id, _ = insert_score(
        conn, score, score_key(job.interaction_id, job.rubric, job.judge_version)
    )
    conn.execute(
        judge_jobs.update()
        .where(judge_jobs.c.job_id == job.job_id)
        .values(state=DONE, score_id=score_id, finished_at=now, lease_expires_at=None)
    )
    return score_id


def retry_later(conn: sa.Connection, job: Job, error: str, at: datetime) -> None:
    """Give the job back to the queue, due at `at`."""
    conn.execute(
        judge_jobs.update()
        .where(judge_jobs.c.job_id == job.job_id, judge_jobs.c.state == LEASED)
        .values(state=QUEUED, available_at=at, lease_expires_at=None, last_error=error)
    )


def hold(conn: sa.Connection, job: Job, reason: str, until: datetime) -> None:
    """Put the job back until `until` without counting the attempt: its judge is held
    (failed re-validation), which is no fault of the job's."""
    c = judge_jobs.c
    conn.execute(
        judge_jobs.update()
        .where(c.job_id == job.job_id, c.state == LEASED)
        .values(
            state=QUEUED,
            attempts=c.attempts - 1,
            available_at=until,
            lease_expires_at=None,
            leased_by=None,
            last_error=reason,
        )
    )


def release(conn: sa.Connection, claimed: Sequence[Job]) -> None:
    """Give back jobs claimed but not started (a worker stopping): queued again at once,
    their claim not counted as an attempt."""
    c = judge_jobs.c
    for job in claimed:
        conn.execute(
            judge_jobs.update()
            .where(c.job_id == job.job_id, c.state == LEASED)
            .values(state=QUEUED, attempts=c.attempts - 1, lease_expires_at=None, leased_by=None)
        )


def dead_letter(
    conn: sa.Connection, job: Job, error: str, score: Score | None, now: datetime
) -> int | None:
    """Give up on the job; its error score says why, so nothing is silently dropped."""
    score_id = None
    if score is not None:
        key = score_key(job.interaction_id, job.rubric, job.judge_version)
        score_id, _ = insert_score(conn, score, key)
    conn.execute(
        judge_jobs.update()
        .where(judge_jobs.c.job_id == job.job_id)
        .values(
            state=DEAD, score_id=score_id, finished_at=now, lease_expires_at=None, last_error=error
        )
    )
    return score_id


def backoff(attempts: int, base_s: float = 5.0, cap_s: float = 600.0) -> timedelta:
    """Delay before retry number `attempts`: base · 2^(attempts−1), capped."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def counts(conn: sa.Connection, project: str | None = None) -> dict[str, int]:
    """Jobs per state (queued, leased, done, dead)."""
    c = judge_jobs.c
    query = sa.select(c.state, sa.func.count()).group_by(c.state)
    if project is not None:
        query = query.where(c.project == project)
    found = {state: count for state, count in conn.execute(query)}
    return {state: found.get(state, 0) for state in (QUEUED, LEASED, DONE, DEAD)}


def jobs_of(conn: sa.Connection, interaction_id: int) -> list[dict]:
    c = judge_jobs.c
    query = sa.select(
        c.job_id,
        c.rubric,
        c.judge_version,
        c.state,
        c.attempts,
        c.priority,
        c.reason,
        c.last_error,
        c.score_id,
        c.created_at,
        c.finished_at,
    ).where(c.interaction_id == interaction_id)
    return [dict(row) for row in conn.execute(query.order_by(c.job_id)).mappings()]
