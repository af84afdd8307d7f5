"""One sequential detector: a CUSUM of likelihood ratios over a slice's batches, tuned
to the rule's minimum effect, with its threshold from the false-alarm budget.

Pure. A detector knows the stream (per batch: when, and the successes or the sum of
the scores, out of n), what the baseline says (the point estimate and a conservative
bound of the in-control value), the alternative it is tuned to (baseline ± the
minimum effect) and how much traffic it sees. `decide` gives the statistic, whether it
is above its threshold and since when, and what the detector can detect at this
volume (docs/monitor.md, "How alerts are decided").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from liveeval.monitor.budget import Budget
from liveeval.stats.sequential import (
    CusumPath,
    bernoulli_drift,
    bernoulli_llr,
    cusum_path,
    expected_delay,
    gaussian_drift,
    gaussian_llr,
)

Direction = Literal["rise", "drop"]
# Per batch: (its start and end, successes or the sum of the scores, n).
Stream = Sequence[tuple[tuple[datetime, datetime], float, int]]
NEVER_MINUTES = 100 * 365 * 1440.0  # an expected delay beyond a century: never
RESOLVE_BELOW = 0.5  # an open alert resolves when the statistic falls below h × this
SCALES = (1, 2, 4, 8)  # the effect sizes watched: multiples of the minimum effect


@dataclass(frozen=True, slots=True)
class Bernoulli:
    """A rate: in control at `estimate` (checked against the conservative `bound`),
    out of control at `estimate ± effect`."""

    estimate: float
    bound: float

    def coefficients(self, direction: Direction, effect: float) -> tuple[float, float]:
        """(alpha, beta): a batch's log-likelihood ratio is alpha * successes + beta * n."""
        p1 = self.alternative(direction, effect)
        beta = bernoulli_llr(0.0, 1.0, self.bound, p1)
        return bernoulli_llr(1.0, 1.0, self.bound, p1) - beta, beta

    def alternative(self, direction: Direction, effect: float) -> float:
        p1 = self.estimate + effect if direction == "rise" else self.estimate - effect
        return min(1.0, max(0.0, p1))

    def drift(self, direction: Direction, effect: float, shift: float) -> float:
        truth = self.alternative(direction, shift)
        return bernoulli_drift(truth, self.bound, self.alternative(direction, effect))

    def usable(self, direction: Direction, effect: float) -> bool:
        p1 = self.alternative(direction, effect)
        return p1 > self.bound if direction == "rise" else p1 < self.bound

    def max_shift(self, direction: Direction) -> float:
        return 1.0 - self.estimate if direction == "rise" else self.estimate

    def reaches(self, direction: Direction, effect: float) -> bool:
        """The alternative stays a rate short of 0 or 1."""
        p1 = self.estimate + effect if direction == "rise" else self.estimate - effect
        return 0.001 < p1 < 0.999


@dataclass(frozen=True, slots=True)
class Gaussian:
    """A mean score with standard deviation `sd`, as `Bernoulli` for rates."""

    estimate: float
    bound: float
    sd: float

    def coefficients(self, direction: Direction, effect: float) -> tuple[float, float]:
        """(alpha, beta): a batch's log-likelihood ratio is alpha * sum + beta * n."""
        mu1 = self.alternative(direction, effect)
        beta = gaussian_llr(0.0, 1.0, self.bound, mu1, self.sd)
        return gaussian_llr(1.0, 1.0, self.bound, mu1, self.sd) - beta, beta

    def alternative(self, direction: Direction, effect: float) -> float:
        return self.estimate + effect if direction == "rise" else self.estimate - effect

    def drift(self, direction: Direction, effect: float, shift: float) -> float:
        truth = self.alternative(direction, shift)
        return gaussian_drift(truth, self.bound, self.alternative(direction, effect), self.sd)

    def usable(self, direction: Direction, effect: float) -> bool:
        p1 = self.alternative(direction, effect)
        return p1 > self.bound if direction == "rise" else p1 < self.bound

    def max_shift(self, direction: Direction) -> float:
        return 10.0 * self.sd

    def reaches(self, direction: Direction, effect: float) -> bool:
        return effect <= self.max_shift(direction)


Model = Bernoulli | Gaussian


@dataclass(frozen=True, slots=True)
class Detectability:
    """What this detector can see at today's volume, within its budget."""

    per_minute: float  # observations a minute (from the baseline)
    threshold: float  # h
    min_effect: float
    delay: timedelta | None  # expected time to detect the minimum effect; None: never
    smallest: float | None  # the smallest change detected within the window, on average
    detects: bool  # the minimum effect is detected within the window, on average

    def to_dict(self) -> dict[str, object]:
        return {
            "per_minute": self.per_minute,
            "threshold": self.threshold,
            "min_effect": self.min_effect,
            "delay_s": None if self.delay is None else self.delay.total_seconds(),
            "smallest_detectable": self.smallest,
            "detects_min_effect": self.detects,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    statistic: float
    threshold: float
    breached: bool
    crossed_at: datetime | None  # the end of the batch where the statistic rose above h
    run_start: datetime | None  # the start of the batch where the current run began
    run_a: float  # successes (or the sum) and n since the run began
    run_n: int
    detectability: Detectability
    watching: bool = True  # some effect size (the minimum or a multiple) can be detected
    model: Model | None = None
    high_until: datetime | None = None  # the last batch end with evidence at half h or more

    @property
    def evidence(self) -> float:
        """The statistic as a share of its threshold: 1 and above alarms."""
        return self.statistic / self.threshold if self.threshold > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Detector:
    direction: Direction
    model: Model
    effect: float  # the rule's minimum effect, in the metric's units
    stream: Stream
    per_minute: float
    window: timedelta

    def usable(self, scale: float = 1) -> bool:
        """The alternative at `scale` times the minimum effect lies beyond the baseline's
        conservative bound (a thin baseline's bound may swallow a small effect)."""
        effect = self.effect * scale
        if not (self.per_minute > 0 and effect > 0 and self.model.usable(self.direction, effect)):
            return False
        return scale == 1 or self.model.reaches(self.direction, effect)

    def watching(self) -> bool:
        return any(self.usable(scale) for scale in SCALES)

    def decide(self, budget: Budget, directions: int = 1) -> Verdict:
        # One CUSUM per effect size (the minimum effect and its multiples), the budget
        # split between them: a large change is caught fast, not at the pace of the
        # small one (a discrete version of the generalized likelihood ratio).
        h = budget.threshold(self.per_minute, directions) + math.log(len(SCALES))
        detectability = self.detectability(h)
        scales = [scale for scale in SCALES if self.usable(scale)]
        if not scales:
            return Verdict(
                0.0, h, False, None, None, 0.0, 0, detectability, watching=False, model=self.model
            )
        points = np.asarray([(a, n) for _, a, n in self.stream], dtype=float).reshape(-1, 2)
        paths = []
        for scale in scales:
            alpha, beta = self.model.coefficients(self.direction, self.effect * scale)
            paths.append(cusum_path(alpha * points[:, 0] + beta * points[:, 1], h, RESOLVE_BELOW))
        path: CusumPath = max(paths, key=lambda p: p.last)
        highs = [p.high for p in paths if p.high is not None]
        spans = [span for span, _, _ in self.stream]
        run_a, run_n = 0.0, 0
        if path.run_start is not None:
            run_a = sum(a for _, a, _ in self.stream[path.run_start :])
            run_n = sum(n for _, _, n in self.stream[path.run_start :])
        return Verdict(
            path.last,
            h,
            path.last > h,
            spans[path.crossed][1] if path.crossed is not None else None,
            spans[path.run_start][0] if path.run_start is not None else None,
            run_a,
            run_n,
            detectability,
            model=self.model,
            high_until=spans[max(highs)][1] if highs else None,
        )

    def detectability(self, h: float) -> Detectability:
        if not self.usable():
            return Detectability(self.per_minute, h, self.effect, None, None, False)
        observations = self.per_minute * self.window.total_seconds() / 60
        delay_obs = expected_delay(h, self.model.drift(self.direction, self.effect, self.effect))
        minutes = delay_obs / self.per_minute
        delay = timedelta(minutes=minutes) if minutes < NEVER_MINUTES else None
        return Detectability(
            self.per_minute,
            h,
            self.effect,
            delay,
            self._smallest(h, observations),
            delay_obs <= observations,
        )

    def _smallest(self, h: float, observations: float) -> float | None:
        """The smallest shift whose expected delay fits in the window (bisection: the
        drift grows with the shift)."""
        high = self.model.max_shift(self.direction)

        def fits(shift: float) -> bool:
            return expected_delay(h, self.model.drift(self.direction, self.effect, shift)) <= (
                observations
            )

        if high <= 0 or not fits(high):
            return None
        low = 0.0
        for _ in range(30):
            middle = (low + high) / 2
            if fits(middle):
                high = middle
            else:
                low = middle
        return high
