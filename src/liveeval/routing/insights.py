"""Routing insights: each arm's recent reward against its baseline, degraded arms, shares,
and a recommendation with the figures behind it.

The current window is the last `lookback` before `now`; the baseline the `baseline`
before that window (48 h against the 168 h before, by default). An arm is degraded in a
slice when the upper end of the interval of (current - baseline) mean reward (Welch, at
`confidence`) is below -`min_drop`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from liveeval.model.routing import Outcome
from liveeval.stats.means import Moments, t_interval, welch_difference

from .config import TaskConfig
from .learn import reward_of
from .slices import TASK, slice_chain


@dataclass(frozen=True, slots=True)
class ArmInsight:
    """One arm in one slice: rewards now and in the baseline, the change, its share."""

    arm: str
    slice_key: str
    current_mean: float
    current_interval: tuple[float, float]
    current_n: int
    baseline_mean: float
    baseline_interval: tuple[float, float]
    baseline_n: int
    difference_interval: tuple[float, float]
    share: float  # of the slice's outcomes in the current window
    degraded: bool


@dataclass(frozen=True, slots=True)
class Insights:
    task: str
    window: tuple[datetime, datetime]
    baseline: tuple[datetime, datetime]
    arms: tuple[ArmInsight, ...]
    recommendation: str

    @property
    def degraded(self) -> tuple[ArmInsight, ...]:
        return tuple(item for item in self.arms if item.degraded)


def insights(
    outcomes: Sequence[Outcome],
    config: TaskConfig,
    *,
    now: datetime,
    lookback: timedelta = timedelta(hours=48),
    baseline: timedelta = timedelta(hours=168),
    confidence: float = 0.95,
    min_drop: float = 0.0,
) -> Insights:
    """Insights for every arm in every slice with outcomes in the window or the baseline."""
    if lookback <= timedelta(0) or baseline <= timedelta(0):
        raise ValueError("lookback and baseline must be positive")
    start = now - lookback
    base_start = start - baseline
    current: dict[tuple[str, str], Moments] = {}
    past: dict[tuple[str, str], Moments] = {}
    for outcome in outcomes:
        if outcome.at >= now or outcome.at < base_start:
            continue
        into = current if outcome.at >= start else past
        r = reward_of(outcome, config.reward)
        for key in slice_chain(outcome.context, config.slices):
            cell = (key, outcome.arm)
            into[cell] = into.get(cell, Moments()) + Moments(1, r, r * r)
    keys = sorted({key for key, _ in current} | {key for key, _ in past}, key=_slice_order)
    items = []
    for key in keys:
        in_slice = sum(m.n for (k, _), m in current.items() if k == key)
        for arm in config.arm_names:
            now_m, then_m = current.get((key, arm), Moments()), past.get((key, arm), Moments())
            if not now_m.n and not then_m.n:
                continue
            change = welch_difference(now_m, then_m, confidence)
            items.append(
                ArmInsight(
                    arm=arm,
                    slice_key=key,
                    current_mean=now_m.mean,
                    current_interval=_in_reward_range(t_interval(now_m, confidence)),
                    current_n=now_m.n,
                    baseline_mean=then_m.mean,
                    baseline_interval=_in_reward_range(t_interval(then_m, confidence)),
                    baseline_n=then_m.n,
                    difference_interval=(change.low, change.high),
                    share=now_m.n / in_slice if in_slice else 0.0,
                    degraded=change.high < -min_drop,
                )
            )
    return Insights(
        task=config.task,
        window=(start, now),
        baseline=(base_start, start),
        arms=tuple(items),
        recommendation=recommend(items),
    )


def _in_reward_range(interval: tuple[float, float]) -> tuple[float, float]:
    """A mean reward's t interval cut to [0, 1], where rewards (and so their mean) lie: on
    few outcomes near 0 or 1 it reaches past them (0.909 [0.707, 1.112] on 11), which
    reads as a reward above 1. Cutting it loses no coverage."""
    low, high = interval
    return max(0.0, low), min(1.0, high)


def recommend(items: Sequence[ArmInsight]) -> str:
    """One line per degraded arm and the best arm of the task now, with figures."""
    lines = []
    for item in items:
        if item.degraded:
            low, high = item.difference_interval
            where = "the task" if item.slice_key == TASK else item.slice_key
            lines.append(
                f"{item.arm} degraded in {where}: reward {item.baseline_mean:.3f} -> "
                f"{item.current_mean:.3f} (change in [{low:+.3f}, {high:+.3f}], "
                f"n {item.baseline_n} -> {item.current_n}); route {where} away from it"
            )
    task_now = [i for i in items if i.slice_key == TASK and i.current_n >= 2]
    if task_now:
        best = max(task_now, key=lambda i: i.current_interval[0])
        low, high = best.current_interval
        lines.append(
            f"best arm now: {best.arm}, reward {best.current_mean:.3f} [{low:.3f}, {high:.3f}] "
            f"over {best.current_n} outcomes, {best.share:.0%} of traffic"
        )
    return "; ".join(lines) if lines else "not enough outcomes in the window to recommend"


def _slice_order(key: str) -> tuple[int, str]:
    return (0 if key == TASK else key.count(",") + 1, key)
