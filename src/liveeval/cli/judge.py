"""`liveeval judge calibrate`: how well the judge agrees with people on a labelled set.

Exit 0 when quadratic kappa reaches the floor, 1 below it, 2 on a usage or file error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import click

from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.config import Settings
from liveeval.config.judge import JudgeConfig
from liveeval.flywheel.calibration_watch import record_run
from liveeval.flywheel.revalidation import SOURCE
from liveeval.judge.calibration import (
    DEFAULT_FLOOR,
    AgreementReport,
    JudgeError,
    agreement_report,
    render_text,
    report_to_dict,
)
from liveeval.judge.calibration_set import (
    CalibrationItem,
    CalibrationSetError,
    check_scale,
    item_interaction,
    read_calibration_set,
)
from liveeval.judge.grading import Grader, judge_version
from liveeval.judge.providers import JudgeProviderError, build_provider
from liveeval.judge.rubrics import Rubric, applies, rubrics_from_config
from liveeval.store.calibration import StoredItem, replace_calibration_set, runs


class FileError(click.ClickException):
    """A file that cannot be used: exit 2, like a usage error, without the usage line."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Scored:
    """Judge scores for the items that got one, and the items that did not."""

    items: list[CalibrationItem]
    scores: list[float]
    errors: list[JudgeError]
    judge: str  # what produced the scores, for the heading
    models: tuple[str, ...] = ()  # models the provider reported


FROM_FILE = "judge_score in the file"


@click.group()
def judge() -> None:
    """Check the LLM judge."""


@judge.command()
@click.option(
    "--set",
    "set_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Calibration set: JSONL, one item with human scores a line (docs/calibration.md).",
)
@click.option(
    "--rubric",
    help="Rubric to calibrate (default: the items' rubric, else the first of [judge] run).",
)
@click.option(
    "--floor",
    type=click.FloatRange(-1.0, 1.0),
    default=DEFAULT_FLOOR,
    show_default=True,
    help="Least quadratic-weighted kappa that passes.",
)
@click.option(
    "--regrade", is_flag=True, help="Grade every item with the judge, ignoring judge_score."
)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option(
    "--store",
    "keep",
    is_flag=True,
    help="Keep the set in the store as the project's calibration set for the rubric (the "
    "judge worker re-validates against it after a judge model change) and record this run.",
)
@click.option("--project", help="With --store: the project (default: default_project).")
@click.option("--db", help="With --store: SQLAlchemy URL of the store.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Config file (env LIVEEVAL_CONFIG; default ./liveeval.toml if present).",
)
@click.pass_context
def calibrate(
    ctx: click.Context,
    set_path: str,
    rubric: str | None,
    floor: float,
    regrade: bool,
    as_json: bool,
    keep: bool,
    project: str | None,
    db: str | None,
    config_file: str | None,
) -> None:
    """Agreement of the judge with human scores: kappa, Spearman, Krippendorff's alpha.

    When every item has a judge_score, no model is called; otherwise the configured
    judge grades each item (a judge error is counted and shown, never scored).
    """
    settings = settings_from(config_file, db=db)
    config = settings.judge
    try:
        items = read_calibration_set(set_path)
    except CalibrationSetError as exc:
        raise FileError(str(exc)) from None
    chosen = _rubric(rubrics_from_config(config), rubric, items, config, set_path)
    levels = chosen.scale.scores
    try:
        check_scale(items, levels, set_path)
    except CalibrationSetError as exc:
        raise FileError(str(exc)) from None
    missing = [item for item in items if item.judge_score is None]
    if not missing and not regrade:
        given = [item.judge_score for item in items if item.judge_score is not None]
        scored = Scored(items, given, [], FROM_FILE)
    elif missing and len(missing) < len(items) and not regrade:
        raise FileError(
            f"{set_path}:{missing[0].line}: no judge_score, while {len(items) - len(missing)} "
            f"of the {len(items)} items have one; give it on every item or on none, or pass "
            "--regrade to grade them all with the configured judge"
        )
    else:
        scored = _grade_all(config, chosen, items)
    report = agreement_report(
        scored.scores,
        [item.human_scores for item in scored.items],
        levels,
        [len(item.output) for item in scored.items],
        floor=floor,
        judge_errors=scored.errors,
    )
    _show(report, scored, chosen, set_path, as_json)
    if keep:
        _keep(settings, project or settings.default_project, chosen, items, report, scored)
    ctx.exit(0 if report.passed else 1)


def _keep(
    settings: Settings,
    project: str,
    rubric: Rubric,
    items: list[CalibrationItem],
    report: AgreementReport,
    scored: Scored,
) -> None:
    """Store the set, and the run when the configured judge graded it."""
    now = datetime.now(UTC)
    stored = [
        StoredItem(item.id, item.input, item.output, item.context, item.human_scores)
        for item in items
    ]
    with opened_store(settings, create=True) as store, store.writing() as conn:
        replace_calibration_set(conn, project, rubric.name, stored, now)
        if scored.judge != FROM_FILE:
            version = judge_version(settings.judge, rubric)
            model = scored.models[0] if len(scored.models) == 1 else None
            record_run(conn, project, rubric.name, version, model, report, SOURCE, "manual", now)
    click.echo(
        f"kept {len(stored)} items as the {rubric.name} calibration set of project {project}",
        err=True,
    )


def _rubric(
    known: dict[str, Rubric],
    name: str | None,
    items: Sequence[CalibrationItem],
    config: JudgeConfig,
    set_path: str,
) -> Rubric:
    """The --rubric, else the one the items name, else the first configured one."""
    named = {item.rubric for item in items if item.rubric is not None}
    if name is None:
        if len(named) > 1:
            raise click.UsageError(
                f"the items name several rubrics ({', '.join(sorted(named))}); "
                "choose one with --rubric"
            )
        name = named.pop() if named else config.run[0]
    other = next((item for item in items if item.rubric not in (None, name)), None)
    if other is not None:
        raise FileError(
            f"{set_path}:{other.line}: item {other.id!r} is for rubric {other.rubric!r}, "
            f"not {name!r}"
        )
    if name not in known:
        raise click.UsageError(f"unknown rubric {name!r}; known: {', '.join(sorted(known))}")
    rubric = known[name]
    if not rubric.scale.scores:
        raise click.UsageError(
            f"rubric {name!r} grades with labels; calibration needs a numeric scale (1-5 or binary)"
        )
    return rubric


def _grade_all(config: JudgeConfig, rubric: Rubric, items: list[CalibrationItem]) -> Scored:
    if not config.enabled:
        raise FileError(
            "no judge configured and not every item has a judge_score: set [judge] provider "
            "(and model) in liveeval.toml (see docs/judge.md), or give judge_score on every item"
        )
    try:
        provider = build_provider(config)
    except JudgeProviderError as exc:
        raise FileError(str(exc)) from None
    grader = Grader(provider, config)
    return asyncio.run(_grade(grader, rubric, items))


async def _grade(grader: Grader, rubric: Rubric, items: list[CalibrationItem]) -> Scored:
    """Grade every item, at most `concurrency` at a time, keeping the file's order."""
    results: list[float | JudgeError | None] = [None] * len(items)
    models: set[str] = set()
    limiter = anyio.CapacityLimiter(grader.config.concurrency)

    async def one(index: int, item: CalibrationItem) -> None:
        interaction = item_interaction(item)
        if not applies(rubric, interaction):
            needs = " and ".join(rubric.requires)
            results[index] = JudgeError(item.id, f"rubric {rubric.name} needs {needs}")
            return
        async with limiter:
            judgment = await grader.grade(rubric, interaction)
        if judgment.model_reported:
            models.add(judgment.model_reported)
        if judgment.status == "ok" and judgment.value is not None:
            results[index] = float(judgment.value)
        else:
            results[index] = JudgeError(item.id, judgment.error or "the judge gave no score")

    try:
        async with anyio.create_task_group() as group:
            for index, item in enumerate(items):
                group.start_soon(one, index, item)
    finally:
        await grader.aclose()
    kept = [(item, r) for item, r in zip(items, results, strict=True) if isinstance(r, float)]
    errors = [r for r in results if isinstance(r, JudgeError)]
    return Scored(
        items=[item for item, _ in kept],
        scores=[score for _, score in kept],
        errors=errors,
        judge=judge_version(grader.config, rubric),
        models=tuple(sorted(models)),
    )


def _show(
    report: AgreementReport, scored: Scored, rubric: Rubric, set_path: str, as_json: bool
) -> None:
    if as_json:
        document: dict[str, Any] = {
            "set": set_path,
            "rubric": rubric.name,
            "judge": scored.judge,
            "models_reported": list(scored.models),
            **report_to_dict(report),
        }
        click.echo(json.dumps(document, indent=2, allow_nan=False))
        return
    click.echo(f"Judge calibration of rubric {rubric.name} on {set_path}")
    click.echo(f"judge: {scored.judge}")
    if scored.models:
        click.echo(f"model reported: {', '.join(scored.models)}")
    click.echo("human reference: the median of each item's human scores")
    click.echo("")
    click.echo(render_text(report))


@judge.command("history")
@click.option("--project", help="Project (default: default_project).")
@click.option("--rubric", help="Only this rubric.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one run a line.")
@store_options
def history(config_file, db, project, rubric, limit, as_json) -> None:  # type: ignore[no-untyped-def]
    """Agreement with people over time, per judge version: calibration-set checks (after
    a model change, or `calibrate --store`) and comparisons with review scores."""
    settings = settings_from(config_file, db=db)
    with opened_store(settings) as store, store.reading() as conn:
        found = runs(conn, project or settings.default_project, rubric, limit)
    if as_json:
        for run in found:
            click.echo(json.dumps(run.to_json()))
        return
    if not found:
        click.echo("no calibration runs yet")
        return
    rows = [
        [
            f"{run.created_at:%Y-%m-%d %H:%M}",
            run.judge_version,
            run.model_reported or "-",
            f"{run.source} ({run.trigger})",
            run.n,
            _kappa(run.metrics),
            "pass" if run.passed else "FAIL",
        ]
        for run in found
    ]
    headers = ["when (UTC)", "judge version", "served", "against", "n", "kappa", ""]
    click.echo(render_table(headers, rows))


def _kappa(metrics: dict[str, Any]) -> str:
    value = (metrics.get("kappa_quadratic") or {}).get("value")
    return f"{value:.3f}" if isinstance(value, float) else "-"
