"""Alerts and their notification outbox.

An alert change and the notifications it owes are written in one transaction;
delivery happens after, and a failed delivery stays in the outbox with its next
attempt time until it is sent or has failed `max_attempts` times (then: dead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.store.schema import alerts, notifications, silences

_FIELDS = (
    "project",
    "rule",
    "fingerprint",
    "state",
    "severity",
    "metric",
    "slice",
    "value",
    "baseline",
    "threshold",
    "summary",
    "details",
    "link",
    "started_at",
    "updated_at",
    "resolved_at",
)


def _values(alert: Alert) -> dict[str, object]:
    values = {name: getattr(alert, name) for name in _FIELDS}
    values["state"], values["severity"] = str(alert.state), str(alert.severity)
    return values


def alert_from_row(row: sa.RowMapping) -> Alert:
    values = {name: row[name] for name in _FIELDS}
    values["state"] = AlertState(row["state"])
    values["severity"] = Severity(row["severity"])
    return Alert(  # type: ignore[arg-type]
        **values,
        alert_id=row["alert_id"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
    )


def save_alert(conn: sa.Connection, alert: Alert) -> Alert:
    """Insert a new alert or update a known one; returns it with its id. The
    acknowledgement is a person's, written by `acknowledge_alert` only, so a monitor tick
    that read the alert before it was acknowledged cannot erase it."""
    if alert.alert_id is None:
        alert_id = conn.execute(
            alerts.insert().values(**_values(alert)).returning(alerts.c.alert_id)
        ).scalar_one()
        return replace(alert, alert_id=alert_id)
    conn.execute(
        alerts.update().where(alerts.c.alert_id == alert.alert_id).values(**_values(alert))
    )
    return alert


def firing_alerts(conn: sa.Connection, project: str) -> dict[str, Alert]:
    rows = conn.execute(
        sa.select(alerts).where(alerts.c.project == project, alerts.c.state == "firing")
    ).mappings()
    return {row["fingerprint"]: alert_from_row(row) for row in rows}


def recently_resolved(conn: sa.Connection, project: str, since: datetime) -> dict[str, datetime]:
    """When each fingerprint resolved last, for those resolved since `since`."""
    query = (
        sa.select(alerts.c.fingerprint, sa.func.max(alerts.c.resolved_at))
        .where(
            alerts.c.project == project,
            alerts.c.state == "resolved",
            alerts.c.resolved_at >= since,
        )
        .group_by(alerts.c.fingerprint)
    )
    return {key: at for key, at in conn.execute(query) if at is not None}


@dataclass(frozen=True, slots=True)
class AlertFilter:
    project: str | None = None
    state: str | None = None
    rule: str | None = None
    limit: int = 100


def list_alerts(conn: sa.Connection, where: AlertFilter = AlertFilter()) -> list[Alert]:
    query = sa.select(alerts).order_by(alerts.c.started_at.desc(), alerts.c.alert_id.desc())
    if where.project is not None:
        query = query.where(alerts.c.project == where.project)
    if where.state is not None:
        query = query.where(alerts.c.state == where.state)
    if where.rule is not None:
        query = query.where(alerts.c.rule == where.rule)
    return [alert_from_row(r) for r in conn.execute(query.limit(where.limit)).mappings()]


def get_alert(conn: sa.Connection, alert_id: int) -> Alert | None:
    row = conn.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).mappings().first()
    return None if row is None else alert_from_row(row)


def acknowledge_alert(conn: sa.Connection, alert_id: int, by: str, at: datetime) -> Alert | None:
    """Record who acknowledged the alert (the latest one wins); None if there is none."""
    conn.execute(
        alerts.update()
        .where(alerts.c.alert_id == alert_id)
        .values(acknowledged_by=by[:200], acknowledged_at=at)
    )
    return get_alert(conn, alert_id)


# Silences.


@dataclass(frozen=True, slots=True)
class Silence:
    project: str
    rule: str
    until: datetime
    silenced_by: str
    silenced_at: datetime


def silence_rule(
    conn: sa.Connection, project: str, rule: str, until: datetime, by: str, at: datetime
) -> Silence:
    """Silence `rule` in `project` until `until`: it still evaluates, nothing is sent."""
    values = {"project": project, "rule": rule, "until_at": until, "silenced_by": by[:200]}
    conn.execute(silences.insert().values(**values, silenced_at=at))
    return Silence(project, rule, until, by[:200], at)


def active_silences(conn: sa.Connection, project: str, now: datetime) -> dict[str, Silence]:
    """Each silenced rule of the project with its latest-ending silence in force at `now`."""
    rows = conn.execute(
        sa.select(silences)
        .where(silences.c.project == project, silences.c.until_at > now)
        .order_by(silences.c.until_at)
    ).mappings()
    return {
        row["rule"]: Silence(
            row["project"], row["rule"], row["until_at"], row["silenced_by"], row["silenced_at"]
        )
        for row in rows
    }


# The outbox.


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: int
    alert_id: int
    notifier: str
    action: str  # trigger | resolve
    attempts: int


def enqueue_notifications(
    conn: sa.Connection, alert_id: int, notifiers: Sequence[str], action: str, now: datetime
) -> None:
    if not notifiers:
        return
    conn.execute(
        notifications.insert(),
        [
            {
                "alert_id": alert_id,
                "notifier": name,
                "action": action,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for name in notifiers
        ],
    )


def due_notifications(conn: sa.Connection, now: datetime, limit: int = 100) -> list[Notification]:
    query = (
        sa.select(
            notifications.c.notification_id,
            notifications.c.alert_id,
            notifications.c.notifier,
            notifications.c.action,
            notifications.c.attempts,
        )
        .where(notifications.c.state == "pending", notifications.c.next_attempt_at <= now)
        .order_by(notifications.c.notification_id)
        .limit(limit)
    )
    return [Notification(*row) for row in conn.execute(query)]


def mark_sent(conn: sa.Connection, notification_id: int, now: datetime) -> None:
    conn.execute(
        notifications.update()
        .where(notifications.c.notification_id == notification_id)
        .values(state="sent", sent_at=now, attempts=notifications.c.attempts + 1, last_error=None)
    )


def mark_failed(
    conn: sa.Connection,
    notification: Notification,
    error: str,
    now: datetime,
    retry_in: timedelta | None,
) -> None:
    """Record a failed attempt: try again after `retry_in`, or give up (None: dead)."""
    values: dict[str, object] = {"attempts": notification.attempts + 1, "last_error": error}
    if retry_in is None:
        values["state"] = "dead"
    else:
        values["next_attempt_at"] = now + retry_in
    conn.execute(
        notifications.update()
        .where(notifications.c.notification_id == notification.notification_id)
        .values(**values)
    )


def notification_counts(conn: sa.Connection, project: str | None = None) -> dict[str, int]:
    query = sa.select(notifications.c.state, sa.func.count()).group_by(notifications.c.state)
    if project is not None:
        query = query.join(alerts).where(alerts.c.project == project)
    return {state: count for state, count in conn.execute(query)}


def notifications_of(conn: sa.Connection, alert_id: int) -> list[dict[str, object]]:
    query = (
        sa.select(notifications)
        .where(notifications.c.alert_id == alert_id)
        .order_by(notifications.c.notification_id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
