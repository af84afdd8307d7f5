"""`liveeval routing shadow|promote`: run a candidate on a sample of a routed task's live
inputs, judge it pairwise against production's answers, store the run; and turn a winning
shadow into a canary arm.

`promote` prints the arm's TOML table for the user to add to their config: the config
file is the user's (comments, order, version control), so liveeval never rewrites it; it
checks that the task with the new arm is a valid config before printing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import orjson

from liveeval.cli.options import opened_store, routing_task, settings_from, store_options
from liveeval.cli.shadow_report import decisions_text, render_shadow, shadow_report
from liveeval.config import Settings
from liveeval.config.settings import ConfigError
from liveeval.gate.targets import parse_target
from liveeval.judge.providers import JudgeProviderError, build_provider
from liveeval.judge.rubrics import Rubric, rubrics_from_config
from liveeval.routing.config import from_mapping
from liveeval.routing.shadow import (
    VERDICT_TEXT,
    ShadowItem,
    canary_arm_toml,
    has_content,
    match_decisions,
    pick_sample,
    shadow_item,
    win_rate,
)
from liveeval.routing.shadow_run import ShadowResult, TalliedGrader, run_shadow
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.shadow import (
    MAX_POOL,
    load_shadow_run,
    save_shadow_run,
    task_decisions,
    trace_interactions,
)

WINDOW_MAX = timedelta(days=365)


class ShadowError(click.ClickException):
    """A run that cannot start (bad target, no judge, nothing to sample): exit 2."""

    exit_code = 2


def _window(value: str) -> timedelta:
    from liveeval.config.sampling import parse_window

    try:
        return parse_window(value, maximum=WINDOW_MAX)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


@click.command("shadow")
@click.option("--task", required=True, help="The routed task ([routing.tasks.T]).")
@click.option("--project", help="Project (default: default_project).")
@click.option(
    "--candidate", required=True, help="The candidate: openai:URL, python:module:function, cmd:…"
)
@click.option("--candidate-model", help="The model of an openai: candidate.")
@click.option("--api-key-env", help="Variable holding an openai: candidate's API key.")
@click.option(
    "--keep-system-prompt",
    is_flag=True,
    help="Send an openai: candidate production's system messages (default: left out).",
)
@click.option("--sample", "size", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--since", default="24h", show_default=True, help="Sample the last … (24h, 7d).")
@click.option("--arm", help="Only decisions that served this arm (production's side).")
@click.option("--model", help="Without decisions: interactions of this model.")
@click.option("--prompt-version", help="Without decisions: interactions of this prompt version.")
@click.option("--route", help="Without decisions: interactions of this route.")
@click.option("--rubric", default="quality", show_default=True, help="The pairwise judge's rubric.")
@click.option("--alpha", type=click.FloatRange(0.0001, 0.5), default=0.05, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Of the sample.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.1), default=60.0, show_default=True)
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The stored report as JSON.")
@store_options
def shadow_command(  # type: ignore[no-untyped-def]
    config_file,
    db,
    task,
    project,
    candidate,
    candidate_model,
    api_key_env,
    keep_system_prompt,
    size,
    since,
    arm,
    model,
    prompt_version,
    route,
    rubric,
    alpha,
    seed,
    concurrency,
    timeout_s,
    attempts,
    as_json,
) -> None:
    """Run a candidate on a sample of the task's live inputs (those routed decisions served,
    with content captured; for a task without decisions, the interactions --model,
    --prompt-version or --route pick), judge it against production's answers in both
    orders, store the run and print its win rate."""
    settings = settings_from(config_file, db=db)
    config = routing_task(settings, task)
    window = _window(since)
    filters = {"model": model, "prompt_version": prompt_version, "route": route}
    if arm is not None and any(filters.values()):
        raise click.UsageError(
            "--arm picks decisions; --model, --prompt-version, --route pick "
            "interactions of a task without decisions: give one or the other"
        )
    if arm is not None and arm not in config.arm_names:
        raise click.UsageError(
            f"--arm {arm!r}: {task!r} has the arms {', '.join(config.arm_names)}"
        )
    try:
        target = parse_target(
            candidate,
            model=candidate_model,
            api_key_env=api_key_env,
            timeout_s=timeout_s,
            keep_system_prompt=keep_system_prompt,
        )
    except ValueError as exc:
        raise ShadowError(f"--candidate: {exc}") from None
    judge, chosen = _judge(settings, rubric)
    project = project or settings.default_project
    now = datetime.now(UTC)
    with opened_store(settings) as store:
        with store.reading() as conn:
            pool, without_content = _pool(conn, project, task, arm, filters, now - window, now)
        if not pool:
            raise ShadowError(_empty(task, since, arm, filters, without_content))
        sample = pick_sample(pool, size, seed)

        async def go() -> list[ShadowResult]:
            try:
                return await run_shadow(
                    sample, target, judge, chosen, concurrency=concurrency, attempts=attempts
                )
            finally:
                await target.aclose()
                await judge.aclose()

        results = asyncio.run(go())
        report = shadow_report(
            task=task,
            target=target,
            rubric=chosen.name,
            since=since,
            pool=len(pool),
            without_content=without_content,
            results=results,
            stats=win_rate(
                [r.verdict for r in results if r.verdict and not r.identical],
                identical=sum(r.identical for r in results),
                alpha=alpha,
            ),
            judge=judge,
            started_at=now,
            finished_at=datetime.now(UTC),
        )
        with store.writing() as conn:
            run_id = save_shadow_run(conn, project, report, datetime.now(UTC))
    report["run_id"] = run_id
    click.echo(orjson.dumps(report).decode() if as_json else render_shadow(report))


def _judge(settings: Settings, rubric: str) -> tuple[TalliedGrader, Rubric]:
    if not settings.judge.enabled:
        raise ShadowError("a shadow run needs a pairwise judge: configure [judge] (--config)")
    rubrics = rubrics_from_config(settings.judge)
    if rubric not in rubrics:
        raise ShadowError(f"--rubric {rubric!r}: the rubrics are {', '.join(sorted(rubrics))}")
    try:
        provider = build_provider(settings.judge)
    except JudgeProviderError as exc:
        raise ShadowError(f"the judge: {exc}") from None
    return TalliedGrader(provider, settings.judge), rubrics[rubric]


def _pool(
    conn: Any,
    project: str,
    task: str,
    arm: str | None,
    filters: dict[str, str | None],
    since: datetime,
    until: datetime,
) -> tuple[list[ShadowItem], int]:
    """The items to sample from, and how many decisions had no content to shadow."""
    if any(filters.values()):
        where = InteractionFilter(
            project,
            since=since,
            until=until,
            model=filters["model"],
            prompt_version=filters["prompt_version"],
            route=filters["route"],
        )
        found = list_interactions(conn, where, limit=MAX_POOL)
        captured = [i for i in found if has_content(i)]
        return [shadow_item(i) for i in captured], 0
    decisions = task_decisions(conn, project, task, since, until, arm=arm)
    interactions = trace_interactions(conn, project, [d.trace_id for d in decisions])
    items, missing = match_decisions(decisions, [i for i in interactions if has_content(i)])
    return items, len(missing)


def _empty(
    task: str, since: str, arm: str | None, filters: dict[str, str | None], without: int
) -> str:
    if any(filters.values()):
        named = ", ".join(f"{k.replace('_', '-')} {v!r}" for k, v in filters.items() if v)
        return f"no interaction with {named} and captured content in the last {since}"
    served = f" that served {arm!r}" if arm else ""
    if without:
        return (
            f"{decisions_text(without)} of {task!r}{served} in the last {since}, none with "
            "captured content (input and answer) to shadow"
        )
    return (
        f"no decision of {task!r}{served} in the last {since}; for a task that is not routed "
        "yet, pick its interactions with --model, --prompt-version or --route"
    )


@click.command("promote")
@click.option("--task", required=True, help="The routed task ([routing.tasks.T]).")
@click.option("--project", help="Project (default: default_project).")
@click.option("--arm", required=True, help="The new canary arm's name.")
@click.option("--from-shadow", "run_id", type=click.IntRange(1), required=True)
@click.option(
    "--model", help="The arm's model (default: an openai: candidate's --candidate-model)."
)
@click.option("--prompt-version", help="The arm's prompt version.")
@click.option("--force", is_flag=True, help="Promote a shadow that did not win.")
@store_options
def promote_command(  # type: ignore[no-untyped-def]
    config_file, db, task, project, arm, run_id, model, prompt_version, force
) -> None:
    """Print the [[routing.tasks.T.arms]] table of a canary arm for a shadow run that won:
    add it to your config and restart the server (liveeval never rewrites your config)."""
    settings = settings_from(config_file, db=db)
    config = routing_task(settings, task)
    project = project or settings.default_project
    with opened_store(settings) as store, store.reading() as conn:
        report = load_shadow_run(conn, project, run_id)
    if report is None:
        raise ShadowError(f"no shadow run {run_id} in project {project!r}")
    if report["task"] != task:
        raise ShadowError(f"shadow run {run_id} is of task {report['task']!r}, not {task!r}")
    stats = report["statistics"]
    if stats["verdict"] != "candidate_wins" and not force:
        raise ShadowError(
            f"shadow run {run_id} did not show the candidate better "
            f"({VERDICT_TEXT[stats['verdict']]}); --force promotes it anyway"
        )
    model = model or report.get("candidate_model")
    if not model:
        raise click.UsageError(f"--model: shadow run {run_id}'s candidate names no model")
    if arm in config.arm_names:
        raise click.UsageError(f"--arm {arm!r}: {task!r} has that arm already")
    new_arm = {"name": arm, "model": model, "role": "canary"}
    if prompt_version:
        new_arm["prompt_version"] = prompt_version
    current = config.model_dump(mode="json", exclude={"task"})
    try:
        from_mapping(task, {**current, "arms": [*current["arms"], new_arm]})
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    rate = stats["win_rate"]
    evidence = (
        f"win rate {rate:.3f} over {stats['n']} pairs ({stats['verdict']})"
        if rate is not None
        else stats["verdict"]
    )
    click.echo(
        canary_arm_toml(
            task, arm, model, prompt_version=prompt_version, params={}, run_id=run_id,
            evidence=evidence,
        ),
        nl=False,
    )  # fmt: skip
    click.echo(
        f"add this table to your config, under [routing.tasks.{task}], and restart liveeval "
        f"serve: {arm} starts as a canary at {config.canary.initial_share:.0%} of traffic",
        err=True,
    )
