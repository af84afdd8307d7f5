"""`liveeval regress golden.jsonl --target T`: the golden set as a deploy gate.

Exit 0: the gate passed; 1: a pass-rate threshold was missed; 2: usage, file or
infrastructure error (too many cases could not be run or graded, or the run could not
be stored with --server).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import click

from liveeval.cli.options import settings_from
from liveeval.cli.report_post import PostError, post_report
from liveeval.config import Settings
from liveeval.flywheel.case_file import CaseFileError, read_cases
from liveeval.gate import reports
from liveeval.gate.context import grading_context
from liveeval.gate.graders import GradingContext
from liveeval.gate.results import EXIT_ERROR, CaseResult, Policy, Run, Verdict, decide
from liveeval.gate.runner import run_cases
from liveeval.gate.targets import Target, parse_target
from liveeval.judge.providers import JudgeProviderError
from liveeval.model.case import Case


class RunError(click.ClickException):
    exit_code = EXIT_ERROR


def _rate(text: str) -> tuple[str, float]:
    tag, _, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter(f"{text!r}: write TAG=RATE, e.g. regression=1.0") from None
    if not tag or not 0 <= rate <= 1:
        raise click.BadParameter(f"{text!r}: a tag and a rate between 0 and 1")
    return tag, rate


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r}: write NAME: VALUE")
    return name.strip(), value.strip()


def git_commit() -> str | None:
    """The commit under test: $GITHUB_SHA in GitHub Actions, else `git rev-parse HEAD`."""
    if sha := os.environ.get("GITHUB_SHA"):
        return sha
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


@click.command()
@click.argument("cases_file", type=click.Path(dir_okay=False))
@click.option(
    "--target",
    "target_spec",
    required=True,
    help="openai:URL, python:module:function, or cmd:COMMAND.",
)
@click.option("--model", help="Model for an openai: target.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    help="Header for an openai: target, NAME: VALUE (repeatable).",
)
@click.option("--api-key-env", help="Environment variable holding the openai: target's key.")
@click.option(
    "--keep-system-prompt",
    is_flag=True,
    help="Send an openai: target the cases' own system messages (default: left out, the "
    "app puts its current prompt first).",
)
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (repeatable).")
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0.1),
    default=60.0,
    show_default=True,
    help="Seconds per call to the target (a timed-out call is retried).",
)
@click.option(
    "--attempts",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Tries per case on transient errors.",
)
@click.option("--min-pass-rate", type=click.FloatRange(0, 1), default=0.9, show_default=True)
@click.option(
    "--tag-threshold",
    "tag_thresholds",
    multiple=True,
    help="TAG=RATE (repeatable; default regression=1.0: every frozen regression case must pass).",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="More cases than this could not be run or graded: exit 2.",
)
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False),
    help="Write a Markdown summary here (a PR comment).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the run as JSON here ('-': stdout).",
)
@click.option("--server", help="liveeval server URL: store the run there.")
@click.option("--project", help="With --server: the project (default: the key's).")
@click.option(
    "--api-key", envvar="LIVEEVAL_API_KEY", help="With --server: an API key (env LIVEEVAL_API_KEY)."
)
@click.option(
    "--commit", help="The commit under test (default: $GITHUB_SHA or git rev-parse HEAD)."
)
@click.option("--prompt-version", help="The release under test (for the offline-vs-online series).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Config file: the [judge] for judge graders.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def regress(  # type: ignore[no-untyped-def]
    cases_file,
    target_spec,
    model,
    headers,
    api_key_env,
    keep_system_prompt,
    tags,
    concurrency,
    timeout_s,
    attempts,
    min_pass_rate,
    tag_thresholds,
    max_error_rate,
    junit,
    markdown,
    json_path,
    server,
    project,
    api_key,
    commit,
    prompt_version,
    config_file,
    quiet,
) -> None:
    """Run every golden-set case against the app and gate on the pass rate."""
    settings = settings_from(config_file)
    try:
        cases = [c for c in read_cases(cases_file) if c.active and set(tags) <= set(c.tags)]
    except CaseFileError as exc:
        raise RunError(str(exc)) from None
    cases = _newest(cases)
    thresholds = dict(_rate(t) for t in tag_thresholds) if tag_thresholds else {"regression": 1.0}
    policy = Policy(min_pass_rate, thresholds, max_error_rate)
    try:
        target = parse_target(
            target_spec,
            model=model,
            headers=dict(_header(h) for h in headers),
            api_key_env=api_key_env,
            timeout_s=timeout_s,
            keep_system_prompt=keep_system_prompt,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    context = _context(settings, cases)
    progress = None if quiet else _progress
    run = asyncio.run(
        _run(
            cases,
            target,
            context,
            concurrency,
            timeout_s,
            attempts,
            progress,
            commit or git_commit(),
            prompt_version,
        )
    )
    verdict = decide(run, policy)
    click.echo(reports.console(run, verdict), err=json_path == "-")  # stdout: the JSON
    for path, render in (
        (junit, reports.junit),
        (markdown, reports.markdown),
        (json_path, reports.as_json),
    ):
        if path:
            text = render(run, verdict)
            if path == "-":
                sys.stdout.write(text)
            else:
                Path(path).write_text(text, encoding="utf-8")
    if server:
        _store(server, project, api_key, run, verdict)
    sys.exit(verdict.exit_code)


def _newest(cases: list[Case]) -> list[Case]:
    """One version per case id (a file with every version runs the newest), in file order."""
    newest: dict[str, Case] = {}
    for case in cases:
        if case.id not in newest or case.version > newest[case.id].version:
            newest[case.id] = case
    return [case for case in cases if newest[case.id] is case]


def _context(settings: Settings, cases: list[Case]) -> GradingContext:
    try:
        return grading_context(settings, cases)
    except JudgeProviderError as exc:
        raise RunError(f"judge graders need the [judge]: {exc}") from None


async def _run(
    cases: list[Case],
    target: Target,
    context: GradingContext,
    concurrency: int,
    timeout_s: float,
    attempts: int,
    progress: object,
    commit: str | None,
    prompt_version: str | None,
) -> Run:
    try:
        return await run_cases(
            cases,
            target,
            context,
            concurrency=concurrency,
            attempts=attempts,
            progress=progress,  # type: ignore[arg-type]
            git_commit=commit,
            prompt_version=prompt_version,
        )
    finally:
        await target.aclose()
        if context.judge is not None:
            await context.judge.aclose()


def _progress(result: CaseResult, done: int, total: int) -> None:
    mark = {"passed": ".", "failed": "F", "error": "E"}[result.status]
    click.echo(mark, nl=done == total, err=True)


def _store(
    server: str, project: str | None, api_key: str | None, run: Run, verdict: Verdict
) -> None:
    document = {**run.to_json(), "exit_code": verdict.exit_code, "verdict": list(verdict.reasons)}
    try:
        run_id = post_report(server, "/api/v1/runs", document, project, api_key)
    except PostError as exc:
        raise RunError(str(exc)) from None
    click.echo(f"stored as run {run_id} on {server}", err=True)
