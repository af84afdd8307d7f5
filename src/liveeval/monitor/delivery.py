"""Deliver the notification outbox: build notifiers from config, send what is due, retry.

A send that fails with a retryable error (timeout, refused, 429, 5xx) is tried again
on a later tick after an exponential backoff (or the receiver's Retry-After); one that
fails for good (a 400 for a malformed event, a bad URL) or too often is marked dead,
with the reason, and stays visible in `liveeval alerts show`. `send_probes` sends one
made-up alert through each notifier at once (`liveeval alerts test`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from liveeval.config.monitor import MonitorConfig, NotifierConfig
from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.monitor.evaluation import alert_link
from liveeval.monitor.notifiers import (
    LogNotifier,
    Notifier,
    NotifyError,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
)
from liveeval.store.alerts import due_notifications, get_alert, mark_failed, mark_sent
from liveeval.store.database import Store

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class NotifierConfigError(ValueError):
    """A notifier's secret is missing from the environment."""


def build_notifier(config: NotifierConfig, environ: Mapping[str, str] | None = None) -> Notifier:
    environ = os.environ if environ is None else environ

    def secret(value: str | None, variable: str | None, what: str) -> str:
        if value:
            return value
        if variable and environ.get(variable):
            return environ[variable]
        raise NotifierConfigError(
            f"notifier {config.name!r}: {what} is not set (environment variable {variable})"
        )

    if config.type == "webhook":
        url = secret(config.url, config.url_env, "url")
        return WebhookNotifier(config.name, url, dict(config.headers), config.timeout_s)
    if config.type == "slack":
        return SlackNotifier(
            config.name, secret(config.url, config.url_env, "url"), config.timeout_s
        )
    if config.type == "pagerduty":
        key = secret(config.routing_key, config.routing_key_env, "routing_key")
        return PagerDutyNotifier(config.name, key, config.events_url, config.timeout_s)
    return LogNotifier(config.name)


def wanted_by(config: NotifierConfig, severity: Severity) -> bool:
    return _SEVERITY_RANK[severity] >= _SEVERITY_RANK[config.min_severity]


def backoff(attempts: int, retry_after_s: float | None = None) -> timedelta:
    """Delay before attempt `attempts + 1`: 30 s doubling to 1 h, or what the receiver asked."""
    delay = min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)
    if retry_after_s is not None:
        delay = max(delay, timedelta(seconds=min(retry_after_s, RETRY_MAX.total_seconds())))
    return delay


@dataclass(frozen=True, slots=True)
class Delivered:
    sent: int = 0
    retrying: int = 0
    dead: int = 0


def deliver_due(
    store: Store,
    notifiers: Mapping[str, Notifier],
    config: MonitorConfig,
    now: datetime,
) -> Delivered:
    """Send every due notification once; record each outcome."""
    with store.reading() as conn:
        due = due_notifications(conn, now)
        alerts = {n.alert_id: get_alert(conn, n.alert_id) for n in due}
    sent = retrying = dead = 0
    for note in due:
        alert, notifier = alerts[note.alert_id], notifiers.get(note.notifier)
        error: str | None = None
        retry_in: timedelta | None = None
        if alert is None or notifier is None:
            error = f"notifier {note.notifier!r} is no longer configured"
        else:
            # Send the alert as it was at this action: a resolve of a re-fired alert
            # must still read as a resolve.
            state = AlertState.FIRING if note.action == "trigger" else AlertState.RESOLVED
            # The link leads to the alert's page on the dashboard, not to REST JSON.
            link = alert_link(config.public_url, alert.alert_id) or alert.link
            try:
                notifier.send(replace(alert, state=state, link=link))
            except NotifyError as exc:
                error = str(exc)
                attempts = note.attempts + 1
                if exc.retryable and attempts < config.max_notify_attempts:
                    retry_in = backoff(attempts, exc.retry_after_s)
        with store.writing() as conn:
            if error is None:
                mark_sent(conn, note.notification_id, now)
                sent += 1
            else:
                mark_failed(conn, note, error, now, retry_in)
                retrying += retry_in is not None
                dead += retry_in is None
        if error is not None:
            log.warning(
                "notification %s to %s failed (%s): %s",
                note.notification_id,
                note.notifier,
                "will retry" if retry_in is not None else "dead",
                error,
            )
    return Delivered(sent, retrying, dead)


TEST_RULE = "liveeval-test"


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """One notifier's answer to a test notification: `error` is None when it was sent."""

    notifier: str
    kind: str
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


def probe_alert(project: str, now: datetime, public_url: str | None) -> Alert:
    """A made-up info alert that says it is a test."""
    return Alert(
        project=project,
        rule=TEST_RULE,
        fingerprint=f"{project}|{TEST_RULE}|{now.isoformat()}",
        state=AlertState.FIRING,
        severity=Severity.INFO,
        metric="test",
        slice={},
        value=None,
        baseline=None,
        threshold=0.0,
        summary=f"{TEST_RULE}: a test notification from liveeval; nothing has moved",
        started_at=now,
        updated_at=now,
        link=f"{public_url}/ui/alerts?project={project}" if public_url else None,
        details={"test": True},
    )


def send_probes(
    config: MonitorConfig,
    project: str,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    only: str | None = None,
) -> list[ProbeOutcome]:
    """Send a test alert through each configured notifier (or the one named `only`),
    whatever its min_severity, once, without retries; a PagerDuty trigger is resolved
    right after so it leaves no incident open."""
    outcomes = []
    alert = probe_alert(project, now, config.public_url)
    for notifier_config in config.notifiers:
        if only is not None and notifier_config.name != only:
            continue
        try:
            notifier = build_notifier(notifier_config, environ)
            notifier.send(alert)
            if notifier.kind == "pagerduty":
                notifier.send(replace(alert, state=AlertState.RESOLVED, resolved_at=now))
        except (NotifierConfigError, NotifyError) as exc:
            outcomes.append(ProbeOutcome(notifier_config.name, notifier_config.type, str(exc)))
            continue
        outcomes.append(ProbeOutcome(notifier_config.name, notifier_config.type))
    return outcomes
