"""`liveeval retention run`: purge old interaction content now, or count what would go."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import click

from liveeval.cli.interactions import AwareDateTime
from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.flywheel.retention import Retention, RetentionRun

HEADERS = [
    "project",
    "before (UTC)",
    "interactions",
    "spans",
    "log events",
    "signals",
    "pending signals",
    "judge jobs",
    "queued evals",
]


@click.group()
def retention() -> None:
    """Delete raw interaction content past its age limit ([retention] in the config)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@click.option("--project", help="Only this project (default: every project with a limit).")
@click.option("--at", "at", type=AwareDateTime(), help="Purge as of this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for machines.")
@store_options
def run(config_file, db, dry_run, project, at, as_json) -> None:  # type: ignore[no-untyped-def]
    """Purge the content of interactions older than their project's limit, in batches.

    Texts, messages, context, tool calls, user and session ids, raw spans and log events
    go; ids, times, slices, tokens, cost, scores, signal kinds and values, rollups,
    review items and golden cases stay. `liveeval serve` runs this on its own every
    [retention] interval_s, once per cluster.
    """
    settings = settings_from(config_file, db=db)
    config = settings.retention
    if project is not None and config.days_for(project) is None:
        click.echo(f"project {project} keeps its interactions forever: nothing to purge")
        return
    if project is None and not config.enabled:
        click.echo(
            "retention is off: set [retention] interactions_days, or a limit per project "
            "under [retention.projects]"
        )
        return
    now = at or datetime.now(UTC)
    with opened_store(settings) as store:
        job = Retention(store, settings)
        if dry_run:
            done: RetentionRun | None = job.plan(now, project=project)
        else:
            done = job.run(now, project=project)
            if done is not None:
                job.release()  # a one-off run: the server's schedule may go on at once
    if done is None:
        click.echo("another process holds the retention lease; it purges instead")
        return
    if as_json:
        click.echo(json.dumps(run_json(done)))
        return
    click.echo(summary(done))


def run_json(done: RetentionRun) -> dict[str, object]:
    return {
        "at": done.at.isoformat(),
        "dry_run": done.dry_run,
        "complete": done.complete,
        "projects": {
            name: {"before": done.cutoffs[name].isoformat(), **asdict(purged)}
            for name, purged in done.projects.items()
        },
        "judge_cache": done.judge_cache,
        "transactions": done.transactions,
    }


def summary(done: RetentionRun) -> str:
    verb = "would purge" if done.dry_run else "purged"
    if not done.projects:
        lines = [f"nothing to purge as of {done.at:%Y-%m-%d %H:%M} UTC"]
    else:
        rows = [
            [
                name,
                f"{done.cutoffs[name]:%Y-%m-%d %H:%M}",
                p.interactions,
                p.spans,
                p.log_events,
                p.signals,
                p.pending_signals,
                p.judge_jobs,
                p.queued_evaluations,
            ]
            for name, p in done.projects.items()
        ]
        lines = [f"{verb} as of {done.at:%Y-%m-%d %H:%M} UTC:", render_table(HEADERS, rows)]
    gone = "would be deleted" if done.dry_run else "deleted"
    lines.append(f"judge cache: {done.judge_cache} cached verdicts {gone}")
    if not done.complete:
        lines.append("stopped midway (lease lost); the next run goes on")
    return "\n".join(lines)
