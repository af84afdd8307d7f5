"""`liveeval drift`: how this period's inputs differ from the period before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from liveeval.cli.interactions import AwareDateTime
from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.config.sampling import parse_window
from liveeval.model.slices import DIMENSIONS
from liveeval.monitor.drift import DriftReport
from liveeval.monitor.drift_run import run_drift


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):  # type: ignore[no-untyped-def]
        try:
            return parse_window(value, maximum=timedelta(days=90))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command()
@click.option("--project", help="Project (default: default_project).")
@click.option("--window", type=Duration(), default="1d", show_default=True, help="Recent period.")
@click.option(
    "--baseline",
    type=Duration(),
    default="7d",
    show_default=True,
    help="The period right before the window.",
)
@click.option("--until", type=AwareDateTime(), help="End of the window (default: now).")
@click.option(
    "--baseline-from",
    type=AwareDateTime(),
    help="A pinned baseline instead (e.g. the week after a deploy): its start…",
)
@click.option("--baseline-until", type=AwareDateTime(), help="…and its end.")
@click.option("--slice", "slice_by", type=click.Choice(DIMENSIONS), help="Also per value.")
@click.option("--no-topics", is_flag=True, help="Skip embedding inputs (topics, embeddings).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@store_options
def drift(  # type: ignore[no-untyped-def]
    config_file,
    db,
    project,
    window,
    baseline,
    until,
    baseline_from,
    baseline_until,
    slice_by,
    no_topics,
    as_json,
) -> None:
    """Input drift: lengths, language, topics, intents, models, routes, window vs baseline."""
    settings = settings_from(config_file, db=db)
    end = until or datetime.now(UTC)
    name = project or settings.default_project
    pinned = (baseline_from, baseline_until)
    if (baseline_from is None) != (baseline_until is None):
        raise click.UsageError("give both --baseline-from and --baseline-until")
    if baseline_from is not None and baseline_until <= baseline_from:
        raise click.UsageError("--baseline-until must be after --baseline-from")
    before = pinned if baseline_from is not None else (end - window - baseline, end - window)
    with opened_store(settings) as store:
        run = run_drift(
            store,
            name,
            (end - window, end),
            before,
            settings.monitor.drift,
            slice_by=slice_by,
            topics=not no_topics,
        )
    if as_json:
        click.echo(json.dumps(run.to_dict(), indent=2))
        return
    click.echo(
        f"Input drift of {name}: {_period(run.window)} ({run.n_window:,} interactions) "
        f"against {_period(run.baseline)} ({run.n_baseline:,})"
    )
    if run.encoder:
        click.echo(f"topics: {run.encoder} embeddings of a sample of inputs")
    click.echo("")
    _show(run.overall)
    for found in run.slices:
        click.echo("")
        click.echo(f"— {slice_by} = {found.value} ({found.n_window:,} in the window)")
        if found.note:
            click.echo(f"  ({found.note})")
        _show(found.report)
    if run.n_window == 0:
        click.echo("\nno interactions in the window: nothing to compare")


def _period(span: tuple[datetime, datetime]) -> str:
    start, end = span
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC"


def _show(report: DriftReport) -> None:
    click.echo(report.summary)
    rows = [
        [
            f.feature,
            f.kind,
            "untested"
            if f.method == "min_samples"
            else f.status.upper()
            if f.status != "ok"
            else "ok",
            f.method,
            f"{f.value:.3g}",
            f"{f.threshold:g}",
            f.n_reference,
            f.n_current,
            "; ".join(f.moved[:2]),
        ]
        for f in report.features
    ]
    headers = ["feature", "kind", "status", "decided by", "value", "threshold", "baseline n"]
    click.echo(render_table([*headers, "window n", "what moved"], rows))
