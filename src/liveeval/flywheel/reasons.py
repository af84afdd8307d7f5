"""Why an interaction enters the review queue: pure rules over signal, score and
sampling rows, so each can be tested without a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liveeval.config.review import PRIORITIES, ReviewConfig
from liveeval.model.review import Reason, ReasonKind
from liveeval.model.signal import SignalKind


@dataclass(frozen=True, slots=True)
class ScoreRow:
    interaction_id: int
    name: str
    kind: str  # check | judge | human | external
    status: str
    value: float | None
    details: dict[str, Any] | None
    at: datetime


def signal_reason(
    kind: str, value: float | None, at: datetime, config: ReviewConfig
) -> Reason | None:
    if kind == SignalKind.RATING and value is not None and value <= 2:
        if SignalKind.THUMBS_DOWN in config.signals:
            return Reason(
                ReasonKind.THUMBS_DOWN, f"rating={value:g}", PRIORITIES["thumbs_down"], at
            )
        return None
    if kind not in config.signals:
        return None
    if kind == SignalKind.THUMBS_DOWN:
        return Reason(ReasonKind.THUMBS_DOWN, "thumbs_down", PRIORITIES["thumbs_down"], at)
    priority = PRIORITIES["report"] if kind == SignalKind.REPORT else PRIORITIES["signal"]
    return Reason(ReasonKind.SIGNAL, kind, priority, at)


def sampled_signal_reason(
    trigger: str, sampled: bool, at: datetime, config: ReviewConfig
) -> Reason | None:
    if not (config.sampled_signals and sampled and trigger.startswith("signal:")):
        return None
    return Reason(ReasonKind.SIGNAL, trigger.removeprefix("signal:"), PRIORITIES["signal"], at)


def score_reason(row: ScoreRow, config: ReviewConfig, binary: bool = False) -> Reason | None:
    """`binary`: the judge's rubric scores 0 (fails) or 1 (passes); only 0 is low."""
    if row.kind == "judge" and row.status == "error":
        if not config.judge_errors:
            return None
        return Reason(ReasonKind.JUDGE_ERROR, row.name, PRIORITIES["judge_error"], row.at)
    low = config.low_score_max if not binary else 0.0
    if row.kind == "judge" and row.value is not None and row.value <= low:
        extra = 10 if binary else min(10, round((low - row.value) * 5))
        return Reason(
            ReasonKind.LOW_SCORE,
            f"{row.name}={row.value:g}",
            PRIORITIES["low_score"] + extra,
            row.at,
        )
    if row.kind == "check" and config.failed_checks and _failed(row.details):
        return Reason(ReasonKind.CHECK_FAILED, row.name, PRIORITIES["check_failed"], row.at)
    return None


def disagreement_reason(
    rubric: str, judge: float, human: float, at: datetime, config: ReviewConfig
) -> Reason | None:
    if abs(judge - human) < config.disagreement_min:
        return None
    return Reason(
        ReasonKind.DISAGREEMENT,
        f"{rubric}: judge {judge:g}, human {human:g}",
        PRIORITIES["disagreement"],
        at,
    )


def _failed(details: dict[str, Any] | None) -> bool:
    return isinstance(details, dict) and details.get("passed") is False


def merged(existing: list[Reason], new: list[Reason]) -> list[Reason]:
    """Reasons of both lists, each (kind, detail) once, the earliest kept."""
    seen = {(r.kind, r.detail) for r in existing}
    out = list(existing)
    for reason in new:
        if (reason.kind, reason.detail) not in seen:
            seen.add((reason.kind, reason.detail))
            out.append(reason)
    return out


def primary(reasons: list[Reason]) -> Reason:
    """The reason an item is filed under: the highest priority, then the earliest."""
    return max(reasons, key=lambda r: (r.priority, -r.at.timestamp()))
