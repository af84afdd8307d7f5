"""What a regression run found, and whether it passes the gate.

A case ends in one of three ways: *passed*, *failed* (the app answered and the grader
said no: a quality failure), or *error* (no answer or no grade: a timeout, a 5xx, a
refused connection, a crashed command, an unreachable judge). Errors are infrastructure:
they count neither as passes nor as failures; the pass rate is over graded cases, and
too many errors make the run itself fail (exit 2), since its result means little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["passed", "failed", "error"]
EXIT_PASSED, EXIT_GATE_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CaseResult:
    case_id: str
    version: int
    tags: tuple[str, ...]
    status: Status
    detail: str  # the grader's reason, or the error
    score: float | None = None
    output: str | None = None
    latency_ms: float | None = None
    error_kind: str | None = None  # timeout, connection, server_error, …, grader

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "version": self.version,
            "tags": list(self.tags),
            "status": self.status,
            "detail": self.detail,
            "score": self.score,
            "output": self.output,
            "latency_ms": self.latency_ms,
            "error_kind": self.error_kind,
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """When a run passes: overall pass rate, per-tag pass rates, and the error limit."""

    min_pass_rate: float = 0.9
    tag_min_pass_rates: Mapping[str, float] = field(
        default_factory=lambda: {"regression": 1.0}  # every frozen regression case must pass
    )
    max_error_rate: float = 0.05


@dataclass(frozen=True, slots=True)
class Verdict:
    exit_code: int
    reasons: tuple[str, ...]  # one line each: what failed the gate, or why it passed

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_PASSED


@dataclass(frozen=True, slots=True)
class Run:
    target: str
    snapshot: str
    results: tuple[CaseResult, ...]
    started_at: datetime
    finished_at: datetime
    git_commit: str | None = None
    prompt_version: str | None = None

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def pass_rate(self) -> float | None:
        return pass_rate(self.results)

    @property
    def mean_score(self) -> float | None:
        scores = [r.score for r in self.results if r.status != "error" and r.score is not None]
        return sum(scores) / len(scores) if scores else None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "snapshot": self.snapshot,
            "git_commit": self.git_commit,
            "prompt_version": self.prompt_version,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "cases": len(self.results),
            "passed": self.count("passed"),
            "failed": self.count("failed"),
            "errors": self.count("error"),
            "pass_rate": self.pass_rate,
            "mean_score": self.mean_score,
            "results": [r.to_json() for r in self.results],
        }


def pass_rate(results: Sequence[CaseResult]) -> float | None:
    graded = [r for r in results if r.status != "error"]
    if not graded:
        return None
    return sum(r.status == "passed" for r in graded) / len(graded)


def decide(run: Run, policy: Policy) -> Verdict:
    """Exit 2 when errors exceed the limit; else 1 when a threshold is missed; else 0."""
    total = len(run.results)
    if total == 0:
        return Verdict(EXIT_ERROR, ("no cases to run",))
    errors = run.count("error")
    if errors / total > policy.max_error_rate:
        return Verdict(
            EXIT_ERROR,
            (
                f"{errors} of {total} cases could not be run or graded "
                f"({errors / total:.0%} > {policy.max_error_rate:.0%} allowed): "
                "the result says little; fix the target or the judge first",
            ),
        )
    misses = []
    overall = run.pass_rate
    if overall is not None and overall < policy.min_pass_rate:
        misses.append(f"pass rate {overall:.1%} < {policy.min_pass_rate:.0%}")
    for tag, minimum in sorted(policy.tag_min_pass_rates.items()):
        tagged = [r for r in run.results if tag in r.tags]
        rate = pass_rate(tagged)
        if rate is not None and rate < minimum:
            failing = [r.case_id for r in tagged if r.status == "failed"]
            more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
            shown = ", ".join(failing[:5]) + more
            misses.append(f"tag {tag}: pass rate {rate:.1%} < {minimum:.0%} ({shown})")
    if misses:
        return Verdict(EXIT_GATE_FAILED, tuple(misses))
    shown = "n/a" if overall is None else f"{overall:.1%}"
    return Verdict(EXIT_PASSED, (f"pass rate {shown} ≥ {policy.min_pass_rate:.0%}",))
