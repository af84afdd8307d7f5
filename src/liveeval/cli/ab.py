"""`liveeval ab cases.jsonl --a T1 --b T2`: is variant B better than A, with numbers.

Exit 0 with the verdict (B wins, A wins, significant but smaller than the minimum effect,
or no significant difference); 2 on a usage, file or judge error, or when `--server` could
not store the run. A winner needs both p < alpha and a difference of at least the minimum
effect (default: the grader's, see `gate.ab.default_min_effect`).
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import click

from liveeval.cli.options import settings_from
from liveeval.cli.regress import git_commit
from liveeval.cli.report_post import PostError, post_report
from liveeval.flywheel.case_file import CaseFileError, read_cases
from liveeval.gate.ab import AbRun, GraderComparison, run_ab, with_grader
from liveeval.gate.context import grading_context
from liveeval.gate.graders import GradingContext
from liveeval.gate.targets import parse_target
from liveeval.judge.grading import Grader
from liveeval.judge.providers import JudgeProviderError, build_provider
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.stats.paired import PairedResult

VERDICTS = {
    "b_wins": "B wins",
    "a_wins": "A wins",
    "below_min_effect": "significant, but smaller than the minimum effect",
    "no_difference": "no significant difference",
}


class AbError(click.ClickException):
    exit_code = 2


@click.command()
@click.argument("cases_file", type=click.Path(dir_okay=False))
@click.option("--a", "target_a", required=True, help="Variant A: openai:URL, python:…, cmd:….")
@click.option("--b", "target_b", required=True, help="Variant B, the candidate.")
@click.option("--model-a", help="Model for an openai: variant A.")
@click.option("--model-b", help="Model for an openai: variant B.")
@click.option("--grader", "grader_json", help="One grader for every case, as JSON.")
@click.option(
    "--pairwise",
    "pairwise_rubric",
    help="Also judge each pair side by side, both orders, by this rubric.",
)
@click.option("--alpha", type=click.FloatRange(0.0001, 0.5), default=0.05, show_default=True)
@click.option(
    "--min-effect",
    type=click.FloatRange(0),
    help="Smallest difference that matters (default: 5% of the scale; semantic graders: "
    "0.2 × the standard deviation of A's scores).",
)
@click.option(
    "--keep-system-prompt",
    is_flag=True,
    help="Send openai: variants the cases' own system messages (default: left out).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="Only cases with this tag; repeat it for cases with every tag given "
    "(--tag refunds --tag de).",
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0.1),
    default=60.0,
    show_default=True,
    help="Seconds per call.",
)
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON.")
@click.option("--server", help="liveeval server URL: store the run there.")
@click.option("--project", help="With --server: the project (default: the key's).")
@click.option(
    "--api-key", envvar="LIVEEVAL_API_KEY", help="With --server: an API key (env LIVEEVAL_API_KEY)."
)
@click.option(
    "--commit", help="The commit under test (default: $GITHUB_SHA or git rev-parse HEAD)."
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="Config file: the [judge]."
)
def ab(  # type: ignore[no-untyped-def]
    cases_file,
    target_a,
    target_b,
    model_a,
    model_b,
    grader_json,
    pairwise_rubric,
    alpha,
    min_effect,
    keep_system_prompt,
    tags,
    concurrency,
    timeout_s,
    attempts,
    as_json,
    server,
    project,
    api_key,
    commit,
    config_file,
) -> None:
    """Run variants A and B on the same cases and compare them as paired samples."""
    settings = settings_from(config_file)
    try:
        cases = [c for c in read_cases(cases_file) if c.active and set(tags) <= set(c.tags)]
        grader = json.loads(grader_json) if grader_json else None
        cases = with_grader(cases, grader)
    except (CaseFileError, json.JSONDecodeError, ValueError) as exc:
        raise AbError(str(exc)) from None
    if len(cases) < 2:
        raise AbError(f"{cases_file}: a comparison needs at least 2 active cases")
    try:
        targets = (
            parse_target(
                target_a,
                model=model_a,
                timeout_s=timeout_s,
                keep_system_prompt=keep_system_prompt,
            ),
            parse_target(
                target_b,
                model=model_b,
                timeout_s=timeout_s,
                keep_system_prompt=keep_system_prompt,
            ),
        )
        context = _context(settings, cases, pairwise_rubric)
    except JudgeProviderError as exc:
        raise AbError(f"the judge: {exc}") from None
    except ValueError as exc:
        raise AbError(str(exc)) from None

    async def go() -> AbRun:
        try:
            return await run_ab(
                cases,
                *targets,
                context,
                concurrency=concurrency,
                attempts=attempts,
                alpha=alpha,
                min_effect=min_effect,
                pairwise_rubric=pairwise_rubric,
            )
        finally:
            for target in targets:
                await target.aclose()
            if context.judge is not None:
                await context.judge.aclose()

    try:
        found = asyncio.run(go())
    except ValueError as exc:
        raise AbError(str(exc)) from None
    document = ab_json(
        found, grader=grader, pairwise_rubric=pairwise_rubric, git_commit=commit or git_commit()
    )
    click.echo(json.dumps(document, indent=2) if as_json else render(found))
    if server:
        _store(server, project, api_key, document)


def _store(server: str, project: str | None, api_key: str | None, document: dict[str, Any]) -> None:
    try:
        run_id = post_report(server, "/api/v1/experiments/ab", document, project, api_key)
    except PostError as exc:
        raise AbError(str(exc)) from None
    click.echo(f"stored as A/B run {run_id} on {server}", err=True)


def _context(settings: Any, cases: list[Any], pairwise_rubric: str | None) -> GradingContext:
    context = grading_context(settings, cases)
    if pairwise_rubric is None or context.judge is not None:
        return context
    if not settings.judge.enabled:
        raise ValueError("--pairwise needs a [judge] in the config")
    judge = Grader(build_provider(settings.judge), settings.judge)
    return GradingContext(
        encoder=context.encoder, judge=judge, rubrics=rubrics_from_config(settings.judge)
    )


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def paired_json(result: PairedResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "n": result.n,
        "mean_a": result.mean_a,
        "mean_b": result.mean_b,
        "mean_difference": result.mean_difference,
        "ci": [_number(result.ci[0]), _number(result.ci[1])],
        "confidence": result.confidence,
        "t_statistic": _number(result.t_statistic),
        "t_p_value": _number(result.t_p_value),
        "wilcoxon_p_value": _number(result.wilcoxon_p_value),
        "cohens_dz": _number(result.cohens_dz),
        "mcnemar": None
        if result.mcnemar is None
        else {
            "b01": result.mcnemar.b01,
            "b10": result.mcnemar.b10,
            "statistic": _number(result.mcnemar.statistic),
            "p_value": result.mcnemar.p_value,
            "exact": result.mcnemar.exact,
        },
        "min_effect": result.min_effect,
        "min_effect_basis": result.min_effect_basis,
        "alpha": result.alpha,
        "verdict": result.verdict,
        "reason": result.reason,
        "needed_n": result.needed_n,
    }


def grader_json(found: GraderComparison) -> dict[str, Any]:
    return {
        "grader": found.grader,
        "cases": found.cases,
        "pairs": found.pairs,
        "scale": list(found.scale),
        "comparison": paired_json(found.comparison),
    }


def ab_json(
    found: AbRun,
    *,
    grader: dict[str, Any] | None = None,
    pairwise_rubric: str | None = None,
    git_commit: str | None = None,
) -> dict[str, Any]:
    """The run as `--json` writes it and `--server` posts it."""
    return {
        "a": found.a.target,
        "b": found.b.target,
        "snapshot": found.a.snapshot,
        "started_at": min(found.a.started_at, found.b.started_at).isoformat(),
        "finished_at": max(found.a.finished_at, found.b.finished_at).isoformat(),
        "git_commit": git_commit,
        "grader": grader,
        "pairwise_rubric": pairwise_rubric,
        "pairs": found.pairs,
        "excluded": list(found.excluded),
        "scale": list(found.scale),
        "comparison": paired_json(found.comparison),
        "by_grader": [grader_json(g) for g in found.by_grader],
        "pairwise": paired_json(found.pairwise),
        "pairwise_errors": list(found.pairwise_errors),
        "flip_rate": None
        if found.flips is None
        else {"flips": found.flips.flips, "n": found.flips.n, "rate": _number(found.flips.rate)},
        "results": {
            "a": [r.to_json() for r in found.a.results],
            "b": [r.to_json() for r in found.b.results],
        },
    }


def _lines(title: str, result: PairedResult) -> list[str]:
    low, high = result.ci
    lines = [
        f"{title}: {VERDICTS[result.verdict].upper()} — {result.reason}",
        f"  mean A {result.mean_a:.3f}   mean B {result.mean_b:.3f}   "
        f"B − A {result.mean_difference:+.3f}  "
        f"({result.confidence:.0%} CI {low:+.3f} … {high:+.3f})",
        f"  paired t p = {result.t_p_value:.3g}   Wilcoxon p = {result.wilcoxon_p_value:.3g}   "
        f"Cohen's d_z = {result.cohens_dz:.2f}",
    ]
    if result.mcnemar is not None:
        m = result.mcnemar
        lines.append(
            f"  McNemar: A fails & B passes {m.b01}, A passes & B fails {m.b10}, "
            f"p = {m.p_value:.3g}" + (" (exact)" if m.exact else "")
        )
    if result.verdict == "no_difference":  # the other verdicts' reasons name it
        basis = result.min_effect_basis or "set with --min-effect"
        lines.append(f"  minimum effect {result.min_effect:.3g} ({basis})")
    if result.needed_n is not None:
        lines.append(
            f"  cases needed to detect ±{result.min_effect:.3g} at 80% power: {result.needed_n} "
            f"(this run: {result.n})"
        )
    return lines


def render(found: AbRun) -> str:
    lines = [f"A: {found.a.target}", f"B: {found.b.target}", f"{found.pairs} paired cases"]
    if found.excluded:
        lines.append(
            f"left out ({len(found.excluded)}, an error on a side): "
            + ", ".join(found.excluded[:10])
        )
    lines.append("")
    if len(found.by_grader) > 1:
        lines.append("the cases use graders on different scales: one verdict per grader")
        for family in found.by_grader:
            title = f"Graded by {family.grader} ({family.pairs} of {family.cases} cases paired)"
            if family.comparison is None:
                lines.append(f"{title}: too few paired cases to compare")
            else:
                lines += _lines(title, family.comparison)
    elif found.comparison is None:
        lines.append("too few paired cases to compare")
    else:
        lines += _lines("Graded", found.comparison)
    if found.pairwise is not None:
        lines.append("")
        lines += _lines("Pairwise judge (both orders)", found.pairwise)
    if found.flips is not None:
        lines.append(
            f"  position bias: the verdict flipped in {found.flips.flips} of {found.flips.n} pairs "
            f"({found.flips.rate:.0%}) when the answers swapped places"
        )
    for error in found.pairwise_errors[:5]:
        lines.append(f"  pairwise judge error: {error}")
    return "\n".join(lines)
