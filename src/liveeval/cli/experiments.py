"""`liveeval ab-online`: two variants of the live product compared on stored traffic;
`liveeval divergence`: the golden set against live quality, per release."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import click

from liveeval.cli.drift import Duration
from liveeval.cli.interactions import AwareDateTime
from liveeval.cli.options import opened_store, settings_from, store_options
from liveeval.cli.table import render_table
from liveeval.figures import money_text
from liveeval.gate.divergence import divergence_now, divergence_to_dict
from liveeval.gate.online_ab import COMPARABLE, OnlineComparison, check_request, compare_online


@click.command("ab-online")
@click.option("--project", help="Project (default: default_project).")
@click.option(
    "--dimension",
    type=click.Choice(COMPARABLE),
    default="prompt_version",
    show_default=True,
    help="What the variants differ in.",
)
@click.option("--a", "a", required=True, help="The baseline variant (e.g. v1).")
@click.option("--b", "b", required=True, help="The variant compared with it (e.g. v2).")
@click.option("--window", type=Duration(), default="7d", show_default=True, help="Period.")
@click.option(
    "--since", type=AwareDateTime(), help="Start of the period (default: until - window)."
)
@click.option("--until", type=AwareDateTime(), help="End of the period (default: now).")
@click.option("--rubric", help="Only this judge rubric (default: every rubric judged).")
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
@store_options
def ab_online(  # type: ignore[no-untyped-def]
    config_file, db, project, dimension, a, b, window, since, until, rubric, as_json
) -> None:
    """Compare variant B with A on live traffic: judged scores, signal rates, latency,
    cost; warns first when their input mix differs (a confounded comparison)."""
    settings = settings_from(config_file, db=db)
    end = until or datetime.now(UTC)
    start = since or end - window
    try:
        check_request(dimension, a, b, start, end)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    name = project or settings.default_project
    with opened_store(settings) as store, store.reading() as conn:
        found = compare_online(conn, name, dimension, a, b, start, end, rubric)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    click.echo(render(found))


def render(found: OnlineComparison) -> str:
    """The comparison for people: warnings first, then traffic, scores and rates."""
    lines = [
        f"Online A/B of {found.project} by {found.dimension}: A = {found.a.value}, "
        f"B = {found.b.value}, {found.since:%Y-%m-%d %H:%M} → {found.until:%Y-%m-%d %H:%M} UTC"
    ]
    lines += [f"warning: {w}" for w in found.warnings]
    lines.append("")
    traffic = [
        [
            side,
            s.value,
            s.interactions,
            s.errors,
            _ms(s.latency_p50_ms),
            _ms(s.latency_p95_ms),
            _usd(s.mean_cost_usd),
        ]
        for side, s in (("A", found.a), ("B", found.b))
    ]
    headers = ["", "variant", "interactions", "errors", "p50 latency", "p95 latency", "mean cost"]
    lines.append(render_table(headers, traffic))
    if found.scores:
        lines.append("")
        rows = [
            [
                s.rubric,
                f"{_num(s.a.mean)} (n={s.a.n})",
                f"{_num(s.b.mean)} (n={s.b.n})",
                _signed(s.difference.difference),
                f"{_num(s.difference.low)} to {_num(s.difference.high)}",
                _p(s.difference.p_value),
                _p(s.mann_whitney_p),
                s.verdict,
            ]
            for s in found.scores
        ]
        headers = ["judged", "A mean", "B mean", "B − A", "95% CI", "Welch p", "M–W p", "verdict"]
        lines.append(render_table(headers, rows))
    lines.append("")
    rates = [
        [
            f"{r.name} rate",
            f"{r.a_rate:.1%} ({r.a_count}/{r.a_n})",
            f"{r.b_rate:.1%} ({r.b_count}/{r.b_n})",
            f"{r.difference * 100:+.1f} pts",
            _p(r.p_value),
            r.verdict,
        ]
        for r in found.rates
    ]
    lines.append(render_table(["rate", "A", "B", "B − A", "p", "verdict"], rates))
    return "\n".join(lines)


def _num(value: float) -> str:
    return "-" if math.isnan(value) or math.isinf(value) else f"{value:.2f}"


def _signed(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.2f}"


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f} ms"


def _usd(value: float | None) -> str:
    return "-" if value is None else money_text(value)


@click.command("divergence")
@click.option("--project", help="Project (default: default_project).")
@click.option("--window", type=Duration(), default="90d", show_default=True, help="Period.")
@click.option("--rubric", help="Judge rubric (default: the one judged most).")
@click.option("--json", "as_json", is_flag=True, help="The series as JSON.")
@store_options
def divergence(config_file, db, project, window, rubric, as_json) -> None:  # type: ignore[no-untyped-def]
    """Offline vs online per release: the golden set's pass rate in stored regression runs
    (`regress --server … --prompt-version V`) next to the live judged mean of V."""
    settings = settings_from(config_file, db=db)
    now = datetime.now(UTC)
    with opened_store(settings) as store, store.reading() as conn:
        found = divergence_now(conn, project or settings.default_project, now - window, now, rubric)
    if as_json:
        click.echo(json.dumps(divergence_to_dict(found), indent=2))
        return
    if not found.series:
        click.echo("no release has both a regression run and judged live traffic yet")
        return
    rows = [
        [
            p.prompt_version,
            f"{p.released_at:%Y-%m-%d}",
            f"{p.offline.pass_rate:.0%}",
            "-" if p.online is None else f"{p.online.mean:.2f} (n={p.online.judged})",
            "-" if p.online is None else f"{p.online.bad_share:.0%}",
            "-" if p.gap is None else f"{p.gap:+.2f}",
            "DIVERGED" if p.diverged else "",
        ]
        for p in found.series
    ]
    headers = ["release", "first run", "offline pass", "live judged", "live bad", "gap", ""]
    click.echo(render_table(headers, rows))
    click.echo(found.summary)
