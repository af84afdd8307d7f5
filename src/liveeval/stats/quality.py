"""Quality drift: has the judge score of a window dropped below the baseline's?

A window's scores are summarized as moments, counts per rounded level and the
count of bad scores (score <= bad_at); summaries of minutes add into a window.
The decision needs both a drop beyond the rule's threshold and enough evidence
for the Welch interval to exclude no change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from liveeval.stats.histogram import discrete_quantile
from liveeval.stats.means import MeanDifference, Moments, welch_difference
from liveeval.stats.rates import RateChange, rate_change

BAD_AT = 2.0


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """Judge scores of a window: moments, counts per rounded level, and the bad ones."""

    moments: Moments = field(default_factory=Moments)
    level_counts: dict[int, int] = field(default_factory=dict)
    bad: int = 0
    bad_at: float = BAD_AT

    @classmethod
    def of_values(cls, values: Iterable[float], bad_at: float = BAD_AT) -> ScoreSummary:
        scores = [float(value) for value in values]
        counts: dict[int, int] = {}
        for score in scores:
            level = math.floor(score + 0.5)  # half up, not to even: 2.5 is a 3
            counts[level] = counts.get(level, 0) + 1
        return cls(
            moments=Moments.of_values(scores),
            level_counts=dict(sorted(counts.items())),
            bad=sum(score <= bad_at for score in scores),
            bad_at=bad_at,
        )

    def __add__(self, other: ScoreSummary) -> ScoreSummary:
        if self.bad_at != other.bad_at:
            raise ValueError(f"cannot add summaries with bad_at {self.bad_at} and {other.bad_at}")
        counts = dict(self.level_counts)
        for level, count in other.level_counts.items():
            counts[level] = counts.get(level, 0) + count
        return ScoreSummary(
            self.moments + other.moments,
            dict(sorted(counts.items())),
            self.bad + other.bad,
            self.bad_at,
        )

    @property
    def n(self) -> int:
        return self.moments.n

    @property
    def p10(self) -> float:
        """The 10th percentile of the rounded scores; NaN when empty."""
        return discrete_quantile(self.level_counts, 0.1)

    def integer_values(self) -> list[float] | None:
        """Every score, when all are whole numbers (as a judge's 1-5 or 0/1 verdicts are):
        then the counts per level are the scores themselves. None when the moments show
        some score was not a whole number (the counts are of rounded values)."""
        n = sum(self.level_counts.values())
        total = sum(level * count for level, count in self.level_counts.items())
        squares = sum(level * level * count for level, count in self.level_counts.items())
        tolerance = 1e-9 * max(1.0, abs(self.moments.total_sq))
        if (
            n != self.moments.n
            or abs(total - self.moments.total) > tolerance
            or abs(squares - self.moments.total_sq) > tolerance
        ):
            return None
        return [float(level) for level, count in self.level_counts.items() for _ in range(count)]


@dataclass(frozen=True, slots=True)
class QualityDrift:
    """The window against the baseline, and whether to alert (`dropped`) and why."""

    mean: float
    reference_mean: float
    difference: MeanDifference
    p10: float
    reference_p10: float
    bad_share: RateChange
    dropped: bool
    reason: str


def quality_drift(
    current: ScoreSummary,
    reference: ScoreSummary,
    *,
    max_drop: float,
    relative: bool = False,
    min_samples: int = 30,
    confidence: float = 0.95,
) -> QualityDrift:
    """Decide whether the window's mean score dropped below the baseline's.

    `dropped` holds only when both sides have `min_samples` scores, the mean
    fell by more than `max_drop` (a fraction of the baseline mean when
    `relative`), and the upper end of the Welch interval is below 0.
    """
    if max_drop < 0:
        raise ValueError(f"max_drop cannot be negative, got {max_drop}")
    difference = welch_difference(current.moments, reference.moments, confidence)
    allowed = max_drop * reference.moments.mean if relative else max_drop
    fell = reference.moments.mean - current.moments.mean > allowed
    enough = current.n >= min_samples and reference.n >= min_samples
    dropped = enough and fell and difference.high < 0.0
    return QualityDrift(
        mean=current.moments.mean,
        reference_mean=reference.moments.mean,
        difference=difference,
        p10=current.p10,
        reference_p10=reference.p10,
        bad_share=rate_change(current.bad, current.n, reference.bad, reference.n, confidence),
        dropped=dropped,
        reason=_reason(current, reference, difference, max_drop, relative, min_samples, confidence),
    )


def _reason(
    current: ScoreSummary,
    reference: ScoreSummary,
    difference: MeanDifference,
    max_drop: float,
    relative: bool,
    min_samples: int,
    confidence: float,
) -> str:
    if current.n < min_samples:
        return f"only {current.n:,} scores in the window, need {min_samples:,}"
    if reference.n < min_samples:
        return f"only {reference.n:,} scores in the baseline, need {min_samples:,}"
    before, after = reference.moments.mean, current.moments.mean
    verb = "fell" if after < before else "rose" if after > before else "held"
    numbers = (
        f"mean {verb} from {_number(before)} to {_number(after)} "
        f"({_signed(difference.difference)}, {confidence * 100:g}% CI "
        f"{_number(difference.low)} to {_number(difference.high)}, "
        f"n={current.n:,} vs {reference.n:,})"
    )
    if after >= before:
        return f"{numbers}: no drop"
    allowed = f"{max_drop * 100:g}% of the baseline" if relative else _number(max_drop)
    if before - after <= (max_drop * before if relative else max_drop):
        return f"{numbers}, within the allowed drop of {allowed}"
    if difference.high >= 0.0:
        return f"{numbers}; the interval does not exclude no change"
    return numbers


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")
