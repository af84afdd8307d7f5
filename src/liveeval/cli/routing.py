"""`liveeval routing policy|insights|kill|unkill|replay` (and `shadow|promote`, in
routing_shadow.py): routed tasks from the command line,
read from and written to the store (`--db`), as the server does."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from liveeval.cli.options import opened_store, routing_task, settings_from, store_options
from liveeval.cli.routing_shadow import promote_command, shadow_command
from liveeval.cli.table import render_table
from liveeval.config.sampling import parse_window
from liveeval.config.settings import ConfigError
from liveeval.routing.config import TaskConfig, from_mapping
from liveeval.routing.replay import TargetPolicy, replay, snapshot_policy
from liveeval.routing.slices import TASK, slice_chain
from liveeval.routing.snapshot import Snapshot
from liveeval.routing.stored import compute_snapshot, logged_decisions, stored_insights

MAX_WINDOW = timedelta(days=365)


class Window(click.ParamType):
    name = "window"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return parse_window(value, maximum=MAX_WINDOW)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def task_option(command: Any) -> Any:
    command = click.option("--project", help="Project (default: default_project).")(command)
    return click.option("--task", required=True, help="The routed task ([routing.tasks.T]).")(
        command
    )


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def routing() -> None:
    """Routed tasks: policies, insights, kill switches and replays."""


routing.add_command(shadow_command)
routing.add_command(promote_command)


@routing.command("policy")
@task_option
@click.option("--json", "as_json", is_flag=True, help="The snapshot as the server serves it.")
@store_options
def policy_command(config_file, db, task, project, as_json) -> None:  # type: ignore[no-untyped-def]
    """The task's policy now: each slice's probabilities, the evidence, and the notes of
    the guardrails that acted."""
    settings = settings_from(config_file, db=db)
    config = routing_task(settings, task)
    now = _now()
    with opened_store(settings) as store, store.reading() as conn:
        snapshot = compute_snapshot(
            conn, project or settings.default_project, config, now, int(now.timestamp() * 1000)
        )
    if as_json:
        click.echo(snapshot.to_json())
        return
    click.echo(policy_text(snapshot))


def policy_text(snapshot: Snapshot) -> str:
    headers = ["slice", *snapshot.arms, "notes"]
    rows = []
    for key, decision in snapshot.slices.items():
        shares = [f"{p:.3f}" for p in decision.probabilities]
        rows.append([key, *shares, "; ".join(decision.notes)])
    evidence = [
        [key, e.arm, f"{e.mean:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", e.outcomes, e.changes]
        for key, decision in snapshot.slices.items()
        for e in decision.evidence
    ]
    head = f"{snapshot.task}: policy version {snapshot.policy_version}, default {snapshot.default}"
    table = render_table(["slice", "arm", "mean", "interval", "outcomes", "changes"], evidence)
    return "\n\n".join([head, render_table(headers, rows), table])


@routing.command("insights")
@task_option
@click.option("--lookback", type=Window(), default="48h", show_default=True)
@click.option("--baseline", type=Window(), default="168h", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The insights as the REST API gives them.")
@store_options
def insights_command(config_file, db, task, project, lookback, baseline, as_json) -> None:  # type: ignore[no-untyped-def]
    """Each arm's reward in the last --lookback against the --baseline before it, degraded
    arms, and a recommendation."""
    from liveeval.server.routing import insights_json

    settings = settings_from(config_file, db=db)
    config = routing_task(settings, task)
    with opened_store(settings) as store, store.reading() as conn:
        found = stored_insights(
            conn, project or settings.default_project, config, _now(), lookback, baseline
        )
    if as_json:
        click.echo(json.dumps(insights_json(found)))
        return
    rows = [
        [
            item.slice_key,
            item.arm,
            f"{item.baseline_mean:.3f} (n {item.baseline_n})",
            f"{item.current_mean:.3f} (n {item.current_n})",
            f"[{item.difference_interval[0]:+.3f}, {item.difference_interval[1]:+.3f}]",
            f"{item.share:.0%}",
            "degraded" if item.degraded else "",
        ]
        for item in found.arms
    ]
    headers = ["slice", "arm", "baseline", "current", "change", "share", ""]
    click.echo(render_table(headers, rows) if rows else "no outcomes in the window or baseline")
    click.echo(found.recommendation)


@routing.command("kill")
@task_option
@click.option("--arm", required=True, help="The arm to stop serving.")
@click.option("--slice", "slice_key", default=TASK, show_default=True, help="language=de …")
@click.option("--reason", help="Why (kept with the switch).")
@store_options
def kill_command(config_file, db, task, project, arm, slice_key, reason) -> None:  # type: ignore[no-untyped-def]
    """Stop serving an arm in a slice (and the slices inside it): servers act on it at their
    next policy read."""
    from liveeval.store.routing import add_kill

    settings = settings_from(config_file, db=db)
    _check_kill(routing_task(settings, task), arm, slice_key)
    with opened_store(settings) as store, store.writing() as conn:
        project = project or settings.default_project
        _, new = add_kill(conn, project, task, arm, slice_key, reason, _now())
    click.echo(f"killed {arm} in {slice_key} of {task}" if new else "already killed there")


@routing.command("unkill")
@task_option
@click.option("--arm", required=True)
@click.option("--slice", "slice_key", default=TASK, show_default=True)
@store_options
def unkill_command(config_file, db, task, project, arm, slice_key) -> None:  # type: ignore[no-untyped-def]
    """Lift an arm's kill switch in a slice."""
    from liveeval.store.routing import lift_kill

    settings = settings_from(config_file, db=db)
    _check_kill(routing_task(settings, task), arm, slice_key)
    with opened_store(settings) as store, store.writing() as conn:
        project = project or settings.default_project
        lifted = lift_kill(conn, project, task, arm, slice_key, _now())
    if not lifted:
        raise click.ClickException(f"arm {arm!r} is not killed in slice {slice_key!r} of {task!r}")
    click.echo(f"lifted the kill of {arm} in {slice_key} of {task}")


def _check_kill(config: TaskConfig, arm: str, slice_key: str) -> None:
    from liveeval.server.routing import kill_problem

    problem = kill_problem(config, arm, slice_key)
    if problem:
        raise click.UsageError(problem)


@routing.command("replay")
@task_option
@click.option(
    "--policy",
    "policy_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The candidate: a TOML file with [routing.tasks.T] (a config learned on the same "
    'outcomes) or [probabilities."<slice>"] arm = share tables.',
)
@click.option("--since", type=Window(), default="14d", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@store_options
def replay_command(config_file, db, task, project, policy_file, since, as_json) -> None:  # type: ignore[no-untyped-def]
    """Estimate a candidate policy's mean reward per decision from the logged decisions of
    the last --since (IPS, SNIPS and doubly robust, with 95% intervals), before it serves."""
    settings = settings_from(config_file, db=db)
    config = routing_task(settings, task)
    candidate = _read_candidate(Path(policy_file), config)
    now = _now()
    project = project or settings.default_project
    with opened_store(settings) as store, store.reading() as conn:
        log = logged_decisions(conn, project, config, now - since, now)
        if isinstance(candidate, TaskConfig):
            version = int(now.timestamp() * 1000)
            target = snapshot_policy(compute_snapshot(conn, project, candidate, now, version))
        else:
            target = candidate
    if not log:
        raise click.ClickException(f"no decision of {task!r} with an outcome in the last {since}")
    result = replay(log, target, slice_of=lambda c: slice_chain(c, config.slices)[-1])
    estimates = [result.ips, result.snips, result.dr]
    if as_json:
        body = {e.method: {"value": e.value, "low": e.low, "high": e.high} for e in estimates}
        click.echo(json.dumps({**body, "n": len(log), "effective_n": result.effective_n}))
        return
    rows = [[e.method, f"{e.value:.4f}", f"[{e.low:.4f}, {e.high:.4f}]"] for e in estimates]
    click.echo(render_table(["method", "reward", "95% interval"], rows))
    click.echo(f"{len(log)} logged decisions, effective n {result.effective_n:.1f}")


def _read_candidate(path: Path, config: TaskConfig) -> TaskConfig | TargetPolicy:
    """The candidate in `path`; UsageError naming the file and what is wrong."""
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"--policy {path}: {exc}") from None
    tasks = table.get("routing", {}).get("tasks", {})
    if config.task in tasks:
        try:
            candidate = from_mapping(config.task, tasks[config.task])
        except ConfigError as exc:
            raise click.UsageError(f"--policy {path}: {exc}") from None
        if set(candidate.arm_names) - set(config.arm_names):
            extra = ", ".join(sorted(set(candidate.arm_names) - set(config.arm_names)))
            raise click.UsageError(f"--policy {path}: arms never served, cannot replay: {extra}")
        return candidate
    if "probabilities" in table:
        return fixed_policy(path, table["probabilities"], config)
    raise click.UsageError(
        f"--policy {path}: needs [routing.tasks.{config.task}] or [probabilities] tables"
    )


def fixed_policy(path: Path, table: Any, config: TaskConfig) -> TargetPolicy:
    """[probabilities."<slice>"] arm = share: the most specific slice a context is in."""
    if not isinstance(table, Mapping) or TASK not in table:
        raise click.UsageError(f'--policy {path}: [probabilities] needs a "{TASK}" slice')
    shares: dict[str, dict[str, float]] = {}
    for key, row in table.items():
        where = f"--policy {path}: probabilities.{key!r}"
        if not isinstance(row, Mapping) or set(row) - set(config.arm_names):
            raise click.UsageError(f"{where} must map arms of {config.task!r} to shares")
        values = {arm: row.get(arm, 0.0) for arm in config.arm_names}
        if any(not isinstance(v, int | float) or not 0 <= v <= 1 for v in values.values()):
            raise click.UsageError(f"{where}: shares must be numbers in [0, 1]")
        if abs(sum(values.values()) - 1.0) > 1e-6:
            raise click.UsageError(f"{where}: shares add up to {sum(values.values()):g}, not 1")
        shares[key] = {arm: float(v) for arm, v in values.items()}

    def policy(context: Mapping[str, object]) -> Mapping[str, float]:
        chain = slice_chain(context, config.slices)
        return shares[next(key for key in reversed(chain) if key in shares)]

    return policy
