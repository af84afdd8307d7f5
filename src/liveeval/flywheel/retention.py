"""The retention job: purge old interaction content on a schedule, once per cluster.

`Retention.run(now)` is the whole job, with an injectable clock so tests step through
time. `serve` runs it in a thread (`RetentionThread`) every `[retention] interval_s`;
with several servers and workers on one database only the holder of the "retention"
lease runs. Each batch is its own short write transaction (SQLite has one writer, and
ingest must keep flowing during a large first purge), and each batch renews the lease,
so a run longer than the lease's ttl is not taken over halfway.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.store.database import Store
from liveeval.store.leases import acquire_lease, release_lease
from liveeval.store.retention import (
    Cursor,
    Purged,
    count_judge_cache,
    count_purgeable,
    late_signals,
    purge_before,
    purge_judge_cache,
    purge_start,
    scrub_signals,
    stored_projects,
)

log = logging.getLogger(__name__)
LEASE = "retention"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What a run purged (or, dry, would purge), per project."""

    at: datetime
    cutoffs: dict[str, datetime]
    projects: dict[str, Purged] = field(default_factory=dict)
    judge_cache: int = 0  # cached verdicts deleted (shared by all projects)
    transactions: int = 0  # write transactions used (0 on a dry run)
    dry_run: bool = False
    complete: bool = True  # False: stopped midway (shutdown, lease lost); the next run goes on

    @property
    def purged(self) -> Purged:
        return sum(self.projects.values(), Purged())


@dataclass(slots=True)
class _Progress:
    projects: dict[str, Purged] = field(default_factory=dict)
    judge_cache: int = 0
    transactions: int = 0

    def add(self, project: str, purged: Purged) -> None:
        """One write transaction's work."""
        self.projects[project] = self.projects.get(project, Purged()) + purged
        self.transactions += 1


class Interrupted(Exception):
    """A run stops between batches: asked to, or another process took the lease over
    (this one stalled past its ttl)."""


class Retention:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.config = settings.retention
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self.clock = clock
        self._interrupted = threading.Event()

    @property
    def ttl(self) -> timedelta:
        """A few intervals: a holder that died is replaced by the third run after it."""
        return timedelta(seconds=max(3 * self.config.interval_s, 120))

    def run(
        self, now: datetime | None = None, *, project: str | None = None
    ) -> RetentionRun | None:
        """Purge everything past its project's limit as of `now`; None when another process
        holds the lease. `project`: that project only (and not the shared judge cache)."""
        now = now or self.clock()
        with self.store.writing() as conn:
            if not acquire_lease(conn, LEASE, self.holder, self.clock(), self.ttl):
                return None
        cutoffs = self._cutoffs(now, project)
        progress = _Progress(transactions=1)  # the lease's
        complete = True
        try:
            for name, cutoff in cutoffs.items():
                self._purge_project(name, cutoff, now, progress)
            days = self.config.shortest_days()
            if project is None and days is not None:
                self._purge_judge_cache(now - timedelta(days=days), progress)
        except Interrupted as why:
            log.warning("retention run stopped midway (%s); the next run goes on", why)
            complete = False
        done = RetentionRun(
            now,
            cutoffs,
            progress.projects,
            progress.judge_cache,
            progress.transactions,
            dry_run=False,
            complete=complete,
        )
        if done.purged.total or done.judge_cache:
            log.info("retention purged %s, %d cached verdicts", done.purged, done.judge_cache)
        return done

    def plan(self, now: datetime | None = None, *, project: str | None = None) -> RetentionRun:
        """What `run` would purge now, read-only (no lease: it changes nothing)."""
        now = now or self.clock()
        cutoffs = self._cutoffs(now, project)
        days = self.config.shortest_days()
        with self.store.reading() as conn:
            projects = {name: count_purgeable(conn, name, c) for name, c in cutoffs.items()}
            cache = (
                count_judge_cache(conn, now - timedelta(days=days))
                if project is None and days is not None
                else 0
            )
        return RetentionRun(now, cutoffs, projects, cache, transactions=0, dry_run=True)

    def release(self) -> None:
        """Give the lease up now (a one-off run, or a server shutting down)."""
        with self.store.writing() as conn:
            release_lease(conn, LEASE, self.holder)

    def _cutoffs(self, now: datetime, project: str | None) -> dict[str, datetime]:
        if project is not None:
            names = [project]
        elif not self.config.enabled:
            names = []
        else:
            with self.store.reading() as conn:
                names = stored_projects(conn)
        cutoffs = {name: self.config.cutoff_for(name, now) for name in names}
        return {name: cutoff for name, cutoff in cutoffs.items() if cutoff is not None}

    def _purge_project(
        self,
        project: str,
        cutoff: datetime,
        now: datetime,
        progress: _Progress,
    ) -> None:
        """Batches until none is full, then late signals; counted as it goes, so an
        interrupted run still reports what it did."""
        size = self.config.batch_size
        progress.projects[project] = Purged()
        with self.store.reading() as conn:
            start = purge_start(conn, project, cutoff)
        # Nothing due: a cursor at the cutoff takes no interaction, and the batch still
        # deletes the pending signals.
        after: Cursor | None = start if start is not None else (cutoff, 0)
        more = True
        while more:
            with self.store.writing() as conn:
                self._renew(conn)
                batch = purge_before(conn, project, cutoff, size, now=now, after=after)
            progress.add(project, batch.purged)
            after, more = batch.last, batch.more
        while True:
            with self.store.reading() as conn:
                late = late_signals(conn, project, size)
            if late:
                with self.store.writing() as conn:
                    self._renew(conn)
                    progress.add(project, Purged(signals=scrub_signals(conn, late)))
            if len(late) < size:
                return

    def _purge_judge_cache(self, before: datetime, progress: _Progress) -> None:
        size = self.config.batch_size
        while True:
            with self.store.writing() as conn:
                self._renew(conn)
                deleted = purge_judge_cache(conn, before, size)
            progress.judge_cache += deleted
            progress.transactions += 1
            if deleted < size:
                return

    def _renew(self, conn: sa.Connection) -> None:
        """Between batches: stop when asked to, or when another process took over."""
        if self._interrupted.is_set():
            raise Interrupted("stopping")
        if not acquire_lease(conn, LEASE, self.holder, self.clock(), self.ttl):
            raise Interrupted("lease lost")

    def interrupt(self) -> None:
        """Make a run in progress stop after its current batch (a server shutting down)."""
        self._interrupted.set()


class RetentionThread:
    """Runs retention every `interval_s` in a daemon thread until stopped."""

    def __init__(self, retention: Retention, clock: Callable[[], datetime] = utcnow) -> None:
        self.retention = retention
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveeval-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.retention.run(self.clock())
            except Exception:  # a failed run must not end retention; the next may succeed
                log.exception("retention run failed")
            self._stop.wait(self.retention.config.interval_s)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.retention.interrupt()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.retention.release()  # another server may run it at once
