"""What a shadow run reports: the document stored with the run (and printed by
`liveeval routing shadow --json`) and its text for the terminal."""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from liveeval.cli.ab import paired_json
from liveeval.gate.targets import OpenAITarget, Target, target_label
from liveeval.routing.shadow import TIES, VERDICT_TEXT, WinRate
from liveeval.routing.shadow_run import ShadowResult, TalliedGrader
from liveeval.store.shadow import SHADOW


def decisions_text(n: int) -> str:
    return f"{n} decision{'' if n == 1 else 's'}"


def shadow_report(
    *,
    task: str,
    target: Target,
    rubric: str,
    since: str,
    pool: int,
    without_content: int,
    results: list[ShadowResult],
    stats: WinRate,
    judge: TalliedGrader,
    started_at: datetime,
    finished_at: datetime,
) -> dict[str, Any]:
    """The run as it is stored (the A/B run's report) and printed with --json."""
    ids = ",".join(str(r.item.interaction.interaction_id) for r in results)
    production_costs = [
        r.item.interaction.cost_usd for r in results if r.item.interaction.cost_usd is not None
    ]
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    errors = Counter(
        r.candidate_error.split(":", 1)[0] for r in results if r.candidate_error is not None
    )
    flips = stats.flips
    return {
        "kind": SHADOW,
        "task": task,
        "snapshot": "shadow:" + hashlib.sha256(ids.encode()).hexdigest()[:16],
        "production": f"production ({task})",
        "candidate": target_label(target),
        "candidate_model": target.model if isinstance(target, OpenAITarget) else None,
        "rubric": rubric,
        "since": since,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "pool": pool,
        "without_content": without_content,
        "sampled": len(results),
        "answered": sum(r.candidate is not None for r in results),
        "candidate_errors": dict(sorted(errors.items())),
        "judge_errors": sum(r.judge_error is not None for r in results),
        "identical": sum(r.identical for r in results),
        "statistics": {
            "n": stats.n,
            "wins": stats.wins,
            "ties": stats.ties,
            "losses": stats.losses,
            "win_rate": stats.rate if stats.n else None,
            "interval": list(stats.interval) if stats.interval else None,
            "ties_counted": TIES,
            "comparison": paired_json(stats.comparison),
            "flips": {
                "flips": flips.flips,
                "n": flips.n,
                "rate": flips.rate if flips.n else None,
                "interval": list(flips.interval) if flips.n else None,
                "first_position": flips.first_position,
                "second_position": flips.second_position,
            },
            "verdict": stats.verdict,
            "reason": stats.reason,
        },
        "cost": {
            "judge_usd": judge.cost_usd(),
            "judge_calls": judge.calls,
            "judge_input_tokens": judge.input_tokens,
            "judge_output_tokens": judge.output_tokens,
            "production_usd": sum(production_costs) if production_costs else None,
            "production_priced": len(production_costs),
            "candidate_usd": None,  # targets report no usage
        },
        "latency_ms": {
            "candidate_p50": statistics.median(latencies) if latencies else None,
            "production_p50": statistics.median(r.item.interaction.latency_ms for r in results),
        },
        "items": [_item_json(r) for r in results],
    }


def _item_json(result: ShadowResult) -> dict[str, Any]:
    item = result.item
    verdict = result.verdict
    return {
        "interaction_id": item.interaction.interaction_id,
        "decision_id": item.decision_id,
        "arm": item.arm,
        "candidate": result.candidate,
        "latency_ms": result.latency_ms,
        "candidate_error": result.candidate_error,
        "judge_error": result.judge_error,
        "orders": [verdict.first_order, verdict.second_order]
        if verdict and not result.identical
        else None,
        "identical": result.identical,
        "outcome": {"2": "win", "1": "loss", "tie": "tie"}[verdict.winner] if verdict else None,
    }


def render_shadow(report: dict[str, Any]) -> str:
    s = report["statistics"]
    cost = report["cost"]
    flips = s["flips"]
    lines = [
        f"shadow run {report['run_id']} of {report['task']}: {report['candidate']} "
        f"against {report['production']}",
        f"sample: {report['sampled']} of {report['pool']} live inputs of the last "
        f"{report['since']}"
        + (
            f" ({decisions_text(report['without_content'])} without captured content left out)"
            if report["without_content"]
            else ""
        ),
        f"candidate: {report['answered']} answered"
        + (
            ", errors " + ", ".join(f"{k} {v}" for k, v in report["candidate_errors"].items())
            if report["candidate_errors"]
            else ", no errors"
        ),
        f"judged ({report['rubric']}, both orders): {s['n'] - report['identical']} pairs"
        + (
            f", and {report['identical']} answers identical to production's (ties, not judged)"
            if report["identical"]
            else ""
        )
        + (
            f", {report['judge_errors']} the judge could not decide"
            if report["judge_errors"]
            else ""
        ),
        f"win / tie / loss: {s['wins']} / {s['ties']} / {s['losses']}",
    ]
    if s["interval"] is not None:
        low, high = s["interval"]
        p = s["comparison"]["t_p_value"]
        lines.append(
            f"win rate: {s['win_rate']:.3f} (95% CI {low:.3f} … {high:.3f}; {TIES}); "
            f"paired t p = {p:.3g}"
        )
    if flips["n"]:
        lines.append(
            f"position bias: the verdict flipped in {flips['flips']} of {flips['n']} pairs "
            f"({flips['rate']:.0%}, 95% CI {flips['interval'][0]:.0%} … "
            f"{flips['interval'][1]:.0%}) when the answers swapped places; the first position "
            f"won {flips['first_position']} of them, the second {flips['second_position']}"
        )
    lines.append(
        "cost: judge "
        + _usd(cost["judge_usd"], "price unknown: set [judge.price]")
        + f" ({cost['judge_calls']} calls); production "
        + _usd(cost["production_usd"], "unknown")
        + f" for the {cost['production_priced']} priced answers sampled; candidate not reported"
        " by the target"
    )
    lines.append(f"verdict: {VERDICT_TEXT[s['verdict']]}. {s['reason']}")
    if s["verdict"] == "candidate_wins":
        lines.append(
            f"next: liveeval routing promote --task {report['task']} --arm NAME "
            f"--from-shadow {report['run_id']}"
        )
    return "\n".join(lines)


def _usd(value: float | None, unknown: str) -> str:
    return unknown if value is None else f"${value:.4f}"
