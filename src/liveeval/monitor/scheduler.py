"""The monitor's tick: rollups, rules, alerts, the review queue's intake, notifications;
once a minute, once per cluster.

`Monitor.tick(now)` is the whole job, with an injectable clock so tests step
through time. `serve` runs it in a thread (`MonitorThread`); with several servers
and workers on one database only the holder of the "monitor" lease ticks.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from liveeval.config import Settings
from liveeval.flywheel.calibration_watch import watch
from liveeval.flywheel.intake import Intake
from liveeval.flywheel.intake_job import ReviewIntake
from liveeval.gate.divergence import watch_divergence
from liveeval.model.alert import Severity
from liveeval.monitor.alerting import Change, reconcile
from liveeval.monitor.delivery import Delivered, build_notifier, deliver_due, wanted_by
from liveeval.monitor.evaluation import evaluate_project, interactions_link
from liveeval.monitor.notifiers import Notifier
from liveeval.monitor.rules import Evaluation
from liveeval.store.alerts import (
    active_silences,
    enqueue_notifications,
    firing_alerts,
    recently_resolved,
    save_alert,
)
from liveeval.store.database import Store
from liveeval.store.leases import acquire_lease, release_lease
from liveeval.store.regression_runs import offline_points, run_projects
from liveeval.store.rollups import (
    HOUR,
    MINUTE,
    BucketCache,
    Refreshed,
    apply_refresh,
    plan_refresh,
    rollup_projects,
)

log = logging.getLogger(__name__)
LEASE = "monitor"
DIVERGENCE_LOOKBACK = timedelta(days=90)  # releases compared offline vs online


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Tick:
    refreshed: Refreshed
    evaluations: int
    changes: list[Change] = field(default_factory=list)
    delivered: Delivered = field(default_factory=Delivered)
    review: Intake | None = None


class Monitor:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        holder: str | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.config = settings.monitor
        self.rules = self.config.active_rules()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self.notifiers = (
            dict(notifiers)
            if notifiers is not None
            else {n.name: build_notifier(n, environ) for n in self.config.notifiers}
        )
        self._lookback = max(r.window + r.baseline for r in self.rules) if self.rules else None
        self.buckets = BucketCache()  # rollup buckets read on earlier ticks
        self.review = ReviewIntake(store, settings) if settings.review.enabled else None

    def tick(self, now: datetime | None = None) -> Tick | None:
        """One run; None when another process holds the lease."""
        now = now or utcnow()
        ttl = timedelta(seconds=max(3 * self.config.interval_s, 120))
        with self.store.writing() as conn:
            if not acquire_lease(conn, LEASE, self.holder, now, ttl):
                # Another process refreshes now; what we parsed may go stale meanwhile.
                self.buckets = BucketCache()
                return None
        with self.store.reading() as conn:
            plan = plan_refresh(conn)  # the reading, outside the write lock
        with self.store.writing() as conn:
            refreshed = apply_refresh(conn, plan)
        for project, minute in plan.minutes:
            self.buckets.forget(project, MINUTE, minute)
        for project, hour in plan.hours:
            self.buckets.forget(project, HOUR, hour)
        evaluations, changes = 0, []
        if self._lookback is not None:
            with self.store.reading() as conn:
                projects = rollup_projects(conn, now - self._lookback)
            for project in projects:
                found, made = self._evaluate(project, now)
                evaluations += found
                changes += made
        self.buckets.sweep()  # keep what this tick read, which the next one mostly reads again
        review = self.review.run(now) if self.review is not None else None
        changes += self._watch_calibration(now)
        changes += self._watch_divergence(now)
        delivered = deliver_due(self.store, self.notifiers, self.config, now)
        return Tick(refreshed, evaluations, changes, delivered, review)

    def release(self) -> None:
        """Give the lease up now (a one-off tick, or a server shutting down)."""
        with self.store.writing() as conn:
            release_lease(conn, LEASE, self.holder)

    def _evaluate(self, project: str, now: datetime) -> tuple[int, list[Change]]:
        with self.store.reading() as conn:
            evaluations = evaluate_project(
                conn,
                project,
                self.rules,
                self.config.drift,
                now,
                self.buckets,
                self.config.false_alerts_per_month,
            )
        longest_cooldown = max(r.cooldown for r in self.rules)
        with self.store.writing() as conn:
            changes = reconcile(
                project,
                evaluations,
                firing_alerts(conn, project),
                recently_resolved(conn, project, now - longest_cooldown),
                now,
                link=self._link(project, now),
                active_rules=frozenset(r.name for r in self.rules),
            )
            # A silenced rule still evaluates and its alerts are stored; nothing is sent.
            silenced = active_silences(conn, project, now)
            for change in changes:
                saved = save_alert(conn, change.alert)
                quiet = change.alert.rule in silenced
                if change.notifies and saved.alert_id is not None and not quiet:
                    names = self._recipients(change)
                    enqueue_notifications(conn, saved.alert_id, names, change.action, now)
        for change in changes:
            if change.notifies:
                note = " (rule silenced: not sent)" if change.alert.rule in silenced else ""
                log.info("alert %s: %s%s", change.action, change.alert.summary, note)
        return len(evaluations), changes

    def _watch_calibration(self, now: datetime) -> list[Change]:
        """The judge-calibration alert: judge vs reviewers' scores, per judge version."""
        config = self.settings.review
        if not config.enabled:
            return []
        names = [n.name for n in self.config.notifiers if wanted_by(n, Severity.WARNING)]
        since = now - timedelta(days=config.agreement_window_days)
        with self.store.reading() as conn:
            projects = rollup_projects(conn, since)
        changes = []
        for project in projects:
            with self.store.writing() as conn:
                changes += watch(conn, project, config, names, now)
        return changes

    def _watch_divergence(self, now: datetime) -> list[Change]:
        """The offline-vs-online alert: the golden set passes while live quality is poor."""
        since = now - DIVERGENCE_LOOKBACK
        names = [n.name for n in self.config.notifiers if wanted_by(n, Severity.WARNING)]
        with self.store.reading() as conn:
            projects = run_projects(conn, since)
        changes = []
        for project in projects:
            with self.store.writing() as conn:
                offline = offline_points(conn, project, since)
                _, change = watch_divergence(conn, project, offline, names, now, since)
            if change is not None:
                changes.append(change)
        return changes

    def _link(self, project: str, now: datetime) -> Callable[[Evaluation], str | None]:
        return lambda e: interactions_link(self.config.public_url, project, e, now)

    def _recipients(self, change: Change) -> list[str]:
        rule = next((r for r in self.rules if r.name == change.alert.rule), None)
        chosen = rule.notify if rule is not None and rule.notify is not None else None
        return [
            n.name
            for n in self.config.notifiers
            if (chosen is None or n.name in chosen) and wanted_by(n, change.alert.severity)
        ]


class MonitorThread:
    """Ticks every `interval_s` in a daemon thread until stopped."""

    def __init__(self, monitor: Monitor, clock: Callable[[], datetime] = utcnow) -> None:
        self.monitor = monitor
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveeval-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.monitor.tick(self.clock())
            except Exception:  # a bad tick must not end monitoring; the next may succeed
                log.exception("monitor tick failed")
            self._stop.wait(self.monitor.config.interval_s)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.monitor.release()  # another server may tick at once
