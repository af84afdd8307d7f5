"""Step-change detectors on a stream: tabular CUSUM and Page–Hinkley.

Fed, say, the per-minute mean judge score, they alarm a few samples after
the level steps down, long before a window mean has moved far enough.

CUSUM (Page 1954; Montgomery, *Statistical Quality Control*, §9.1) with
target μ0, slack k and threshold h:

    s_high = max(0, s_high + x - (μ0 + k))      alarm "up" when s_high > h
    s_low  = max(0, s_low + (μ0 - k) - x)       alarm "down" when s_low > h

In units of the standard deviation, k = 0.5 and h = 5 give an in-control
average run length of about 465 samples (two-sided) and detect a one-sigma
step after about 10.

Page–Hinkley compares each value with the running mean of the stream so far,
so it needs no target: the statistic g = max(0, α·g + (x - mean) - δ) (for
"up"; mirrored for "down") alarms above λ.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["down", "up", "both"]


@dataclass
class Cusum:
    """A tabular CUSUM; `update` returns True while the statistic exceeds the threshold."""

    target: float
    slack: float
    threshold: float
    direction: Direction = "down"
    s_low: float = field(default=0.0, init=False)
    s_high: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        _check_direction(self.direction)
        if self.slack < 0 or self.threshold < 0:
            raise ValueError("slack and threshold cannot be negative")

    def update(self, x: float) -> bool:
        self.s_high = max(0.0, self.s_high + x - (self.target + self.slack))
        self.s_low = max(0.0, self.s_low + (self.target - self.slack) - x)
        return _alarm(self.direction, self.s_high, self.s_low, self.threshold)

    def reset(self) -> None:
        self.s_low = 0.0
        self.s_high = 0.0


@dataclass
class PageHinkley:
    """The Page–Hinkley test; α = 1.0 forgets nothing, smaller values forget the past.

    No alarm is raised before `min_samples` values have been seen, while the
    running mean is still settling.
    """

    delta: float
    threshold: float
    alpha: float = 1.0
    direction: Direction = "down"
    min_samples: int = 30
    n: int = field(default=0, init=False)
    mean: float = field(default=0.0, init=False)
    g_high: float = field(default=0.0, init=False)
    g_low: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        _check_direction(self.direction)
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")

    def update(self, x: float) -> bool:
        self.n += 1
        self.mean += (x - self.mean) / self.n
        self.g_high = max(0.0, self.alpha * self.g_high + (x - self.mean) - self.delta)
        self.g_low = max(0.0, self.alpha * self.g_low + (self.mean - x) - self.delta)
        if self.n < self.min_samples:
            return False
        return _alarm(self.direction, self.g_high, self.g_low, self.threshold)

    def reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.g_high = 0.0
        self.g_low = 0.0


def cusum_alarms(
    values: Sequence[float],
    target: float,
    slack: float,
    threshold: float,
    direction: Direction = "down",
) -> list[int]:
    """Indices where a CUSUM alarms, restarting from zero after each alarm."""
    detector = Cusum(target, slack, threshold, direction)
    return _alarms(detector, values)


def page_hinkley_alarms(
    values: Sequence[float],
    delta: float,
    threshold: float,
    direction: Direction = "down",
    alpha: float = 1.0,
    min_samples: int = 30,
) -> list[int]:
    """Indices where Page–Hinkley alarms, restarting (mean included) after each alarm."""
    detector = PageHinkley(delta, threshold, alpha, direction, min_samples)
    return _alarms(detector, values)


def first_change(
    values: Sequence[float],
    *,
    target: float | None = None,
    sd: float | None = None,
    reference_size: int = 30,
    slack: float = 0.5,
    threshold: float = 5.0,
    direction: Direction = "both",
) -> int | None:
    """The index of the first alarm of a standardized CUSUM, or None.

    Slack and threshold are in standard deviations (k = 0.5, h = 5 by
    default). Without `target` and `sd`, they are the mean and the sample
    standard deviation of the first `reference_size` values, and the search
    starts after them; None when there are fewer than two such values. A
    reference with no spread alarms at the first value off its level.
    """
    _check_direction(direction)
    start = 0
    if target is None or sd is None:
        reference = list(values[:reference_size])
        if len(reference) < 2:
            return None
        target = statistics.fmean(reference) if target is None else target
        sd = statistics.stdev(reference) if sd is None else sd
        start = len(reference)
    if sd < 0 or math.isnan(sd):
        raise ValueError(f"sd must be a non-negative number, got {sd}")
    if sd == 0.0:
        for index in range(start, len(values)):
            if _alarm(direction, values[index] - target, target - values[index], 0.0):
                return index
        return None
    detector = Cusum(target, slack * sd, threshold * sd, direction)
    for index in range(start, len(values)):
        if detector.update(values[index]):
            return index
    return None


def batched_cusum_alarm(
    batches: Sequence[tuple[int, float]],
    target: float,
    sd: float,
    *,
    slack: float = 0.5,
    threshold: float = 5.0,
    direction: Direction = "down",
) -> int | None:
    """The first batch at whose end a one-sided CUSUM on the observations alarms, or None.

    Observations arrive in batches known only by their count and mean (a per-minute
    rollup): a batch adds n * (its mean's distance from `target`, less the slack) at
    once, as n single updates do while the sum stays above zero. Slack and threshold
    are in standard deviations of one observation (k = 0.5, h = 5: a step of one
    standard deviation is caught after about 10 observations).
    """
    if direction not in ("down", "up"):
        raise ValueError(f"direction must be 'down' or 'up', got {direction!r}")
    if not sd > 0:
        raise ValueError(f"sd must be positive, got {sd}")
    total = 0.0
    for index, (n, mean) in enumerate(batches):
        if n <= 0:
            continue
        distance = (target - mean) if direction == "down" else (mean - target)
        total = max(0.0, total + n * (distance / sd - slack))
        if total > threshold:
            return index
    return None


def _alarms(detector: Cusum | PageHinkley, values: Sequence[float]) -> list[int]:
    alarms = []
    for index, x in enumerate(values):
        if detector.update(x):
            alarms.append(index)
            detector.reset()
    return alarms


def _alarm(direction: Direction, high: float, low: float, threshold: float) -> bool:
    if direction == "up":
        return high > threshold
    if direction == "down":
        return low > threshold
    return high > threshold or low > threshold


def _check_direction(direction: str) -> None:
    if direction not in ("down", "up", "both"):
        raise ValueError(f"direction must be 'down', 'up' or 'both', got {direction!r}")
