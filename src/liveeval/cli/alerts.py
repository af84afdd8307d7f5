"""`liveeval alerts list|show|ack|silence|test` and `liveeval monitor tick|slis`: alerts from the
command line."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime

import click

from liveeval.cli.interactions import AwareDateTime
from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.remote import get_json, server_options
from liveeval.cli.table import render_table
from liveeval.figures import number_text
from liveeval.monitor.delivery import NotifierConfigError, send_probes
from liveeval.monitor.detectability_text import (
    delay_text,
    detects_text,
    group_by_rule,
    status_of,
)
from liveeval.monitor.evaluation import evaluate_project
from liveeval.monitor.scheduler import Monitor
from liveeval.monitor.silencing import SilenceError, silence_end
from liveeval.server.monitor import alert_json, sli_json
from liveeval.store.alerts import (
    AlertFilter,
    acknowledge_alert,
    get_alert,
    list_alerts,
    notifications_of,
    silence_rule,
)


@click.group()
def alerts() -> None:
    """Look at alerts."""


@alerts.command("list")
@click.option("--project", help="Project (default: default_project).")
@click.option("--state", type=click.Choice(["firing", "resolved"]))
@click.option("--rule", help="Only this rule's alerts.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one alert a line.")
@store_options
@server_options
def list_command(config_file, db, server, api_key, project, state, rule, limit, as_json) -> None:  # type: ignore[no-untyped-def]
    """Newest alerts first: state, severity, the slice that moved, and why; from the store
    or, with --server, a server's REST API."""
    if server is not None:
        if db is not None:
            raise click.UsageError("give --db or --server, not both")
        query = {"project": project, "state": state, "rule": rule, "limit": limit}
        params = {name: value for name, value in query.items() if value is not None}
        found = get_json(server, "/api/v1/alerts", params, api_key)
    else:
        settings = settings_from(config_file, db=db)
        where = AlertFilter(project or settings.default_project, state, rule, limit)
        with opened_store(settings) as store, store.reading() as conn:
            found = [alert_json(alert) for alert in list_alerts(conn, where)]
    if as_json:
        for alert in found:
            click.echo(json.dumps(alert))
        return
    if not found:
        click.echo("no alerts")
        return
    rows = [
        [
            a["alert_id"],
            a["state"],
            a["severity"],
            a["rule"],
            ", ".join(f"{k}={v}" for k, v in a["slice"].items()) or "all traffic",
            f"{datetime.fromisoformat(a['started_at']):%Y-%m-%d %H:%M}",
            a["summary"].split(": ", 1)[-1],
        ]
        for a in found
    ]
    headers = ["id", "state", "severity", "rule", "slice", "since (UTC)", "what moved"]
    click.echo(render_table(headers, rows))


@alerts.command("show")
@click.argument("alert_id", type=click.IntRange(1, 2**63 - 1))
@store_options
def show(config_file, db, alert_id) -> None:  # type: ignore[no-untyped-def]
    """One alert in full, with its notifications."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store, store.reading() as conn:
        alert = get_alert(conn, alert_id)
        if alert is None:
            raise click.UsageError(f"no alert {alert_id}")
        sent = notifications_of(conn, alert_id)
    click.echo(f"alert {alert.alert_id}: {alert.state.value}, {alert.severity.value}")
    click.echo(alert.summary)
    click.echo(f"  rule       {alert.rule} ({alert.metric})")
    click.echo(f"  slice      {json.dumps(alert.slice)}")
    click.echo(
        f"  value      {number_text(alert.value)}  (baseline {number_text(alert.baseline)}, "
        f"threshold {number_text(alert.threshold)})"
    )
    click.echo(f"  started    {alert.started_at.isoformat()}")
    if alert.resolved_at:
        click.echo(f"  resolved   {alert.resolved_at.isoformat()}")
    if alert.link:
        click.echo(f"  interactions {alert.link}")
    if alert.acknowledged_by and alert.acknowledged_at:
        click.echo(
            f"  acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at.isoformat()}"
        )
    for note in sent:
        error = f" — {note['last_error']}" if note["last_error"] else ""
        click.echo(
            f"  notify {note['notifier']} ({note['action']}): {note['state']} after "
            f"{note['attempts']} attempt(s){error}"
        )


@alerts.command("ack")
@click.argument("alert_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--by", default=None, help="Who is on it (default: $USER).")
@store_options
def ack(config_file, db, alert_id, by) -> None:  # type: ignore[no-untyped-def]
    """Acknowledge an alert: someone is on it (shown on the dashboard)."""
    settings = settings_from(config_file, db=db)
    who = by or os.environ.get("USER") or "cli"
    with opened_store(settings) as store, store.writing() as conn:
        done = acknowledge_alert(conn, alert_id, who, datetime.now(UTC))
    if done is None:
        raise click.UsageError(f"no alert {alert_id}")
    click.echo(f"alert {alert_id} acknowledged by {who}")


@alerts.command("silence")
@click.argument("rule")
@click.option("--for", "duration", required=True, help='How long: "2h", "1d" (at most 30d).')
@click.option("--project", help="Project (default: default_project).")
@click.option("--by", default=None, help="Who silenced it (default: $USER).")
@store_options
def silence(config_file, db, rule, duration, project, by) -> None:  # type: ignore[no-untyped-def]
    """Silence a rule for a while: it still evaluates and stores alerts, sends nothing."""
    settings = settings_from(config_file, db=db)
    now = datetime.now(UTC)
    try:
        until = silence_end(settings.monitor, rule, duration, now)
    except SilenceError as exc:
        raise click.UsageError(str(exc)) from None
    who = by or os.environ.get("USER") or "cli"
    name = project or settings.default_project
    with opened_store(settings) as store, store.writing() as conn:
        silence_rule(conn, name, rule, until, who, now)
    click.echo(f"rule {rule} silenced in {name} until {until:%Y-%m-%d %H:%M} UTC")


@alerts.command("test")
@click.option("--notifier", "only", help="Only this notifier (default: every one).")
@click.option("--project", help="Project named in the test alert (default: default_project).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one notifier a line.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
def test_command(only, project, as_json, config_file) -> None:  # type: ignore[no-untyped-def]
    """Send a test notification through each configured notifier, now.

    Says per notifier whether it was sent or why not; exits 1 when any failed.
    """
    settings = settings_from(config_file)
    names = [n.name for n in settings.monitor.notifiers]
    if only is not None and only not in names:
        raise click.UsageError(f"no notifier {only!r}; configured: {', '.join(names)}")
    outcomes = send_probes(
        settings.monitor, project or settings.default_project, datetime.now(UTC), only=only
    )
    for outcome in outcomes:
        if as_json:
            click.echo(json.dumps({**asdict(outcome), "sent": outcome.sent}))
        elif outcome.sent:
            click.echo(f"{outcome.notifier} ({outcome.kind}): sent")
        else:
            click.echo(f"{outcome.notifier} ({outcome.kind}): failed — {outcome.error}")
    if not all(outcome.sent for outcome in outcomes):
        raise SystemExit(1)


@click.group()
def monitor() -> None:
    """Run the monitor by hand."""


@monitor.command("tick")
@click.option("--at", "at", type=AwareDateTime(), help="Evaluate as of this time (default: now).")
@store_options
def tick(config_file, db, at) -> None:  # type: ignore[no-untyped-def]
    """One scheduler run now: update rollups, evaluate rules, send notifications."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings, create=True) as store:  # it writes the rollups
        try:
            runner = Monitor(store, settings)
        except NotifierConfigError as exc:
            raise click.UsageError(str(exc)) from None
        done = runner.tick(at or datetime.now(UTC))
        if done is not None:
            runner.release()
    if done is None:
        click.echo("another process holds the monitor lease; it ticks instead")
        return
    click.echo(
        f"rollups: {done.refreshed.minutes} minutes, {done.refreshed.hours} hours rebuilt; "
        f"{done.evaluations} evaluations; {len(done.changes)} alert changes; "
        f"notifications sent {done.delivered.sent}, retrying {done.delivered.retrying}, "
        f"dead {done.delivered.dead}"
    )
    for change in done.changes:
        if change.notifies:
            click.echo(f"  {change.action}: {change.alert.summary}")


@monitor.command("slis")
@click.option("--project", help="Project (default: default_project).")
@click.option("--at", "at", type=AwareDateTime(), help="Evaluate as of this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one (rule, slice) a line.")
@store_options
def slis(config_file, db, project, at, as_json) -> None:  # type: ignore[no-untyped-def]
    """Every rule per slice: its value now and what it can detect at today's volume."""
    settings = settings_from(config_file, db=db)
    now = at or datetime.now(UTC)
    monitor_settings = settings.monitor
    with opened_store(settings) as store, store.reading() as conn:
        found = evaluate_project(
            conn,
            project or settings.default_project,
            monitor_settings.active_rules(),
            monitor_settings.drift,
            now,
            false_alerts_per_month=monitor_settings.false_alerts_per_month,
        )
    if as_json:
        for evaluation in found:
            click.echo(json.dumps(sli_json(evaluation, now)))
        return
    if not found:
        click.echo("no data yet for this project's rules")
        return
    rows = [
        [
            e.rule.name,
            e.slice_text,
            status_of(e.measurement),
            _number(e.measurement.value),
            _number(e.measurement.baseline),
            e.measurement.n,
            detects_text(e),
            delay_text(e.measurement),
        ]
        for group in group_by_rule(found)
        for e in (*group.shown, *group.folded)
    ]
    headers = ["rule", "slice", "status", "now", "baseline", "n", "detects", "expected delay"]
    click.echo(render_table(headers, rows))


def _number(value: float | None) -> str | None:
    return None if value is None or value != value else f"{value:.3f}"
