"""What a feature looks like in both periods: bars per category, a histogram for numbers.

The drift page draws these beside each verdict, so a user sees the baseline and the
window side by side instead of trusting one statistic. Shares are 0..1 of each period's
rows. A categorical feature shows its largest categories (by the larger of its two
shares) and folds the rest into one "other" bar; a numeric feature is binned on edges
shared by both periods, spanning the 1st to the 99th percentile of both together so one
outlier does not squash the rest into a single bin (values beyond fall in the end bins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from liveeval.monitor import drift_text
from liveeval.stats.categorical_drift import CategoricalDrift

TOP_CATEGORIES = 8
HISTOGRAM_BINS = 12
OTHER = "other"


@dataclass(frozen=True)
class Bar:
    """One category's share of the baseline's rows and of the window's."""

    label: str
    baseline: float
    window: float


@dataclass(frozen=True)
class Histogram:
    """Shares of each period's rows per bin; bin i spans edges[i]..edges[i + 1]."""

    edges: list[float]
    baseline: list[float]
    window: list[float]


def category_bars(
    feature: str,
    detail: CategoricalDrift,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    top: int = TOP_CATEGORIES,
) -> list[Bar]:
    """The `top` categories by their larger share, then one bar for all the others."""
    ranked = sorted(
        detail.reference_shares,
        key=lambda key: (-max(detail.reference_shares[key], detail.current_shares[key]), key),
    )
    bars = [
        Bar(
            drift_text.display_name(feature, key, labels),
            detail.reference_shares[key],
            detail.current_shares[key],
        )
        for key in ranked[:top]
    ]
    rest = ranked[top:]
    if rest:
        bars.append(
            Bar(
                f"{OTHER} ({len(rest)})",
                sum(detail.reference_shares[key] for key in rest),
                sum(detail.current_shares[key] for key in rest),
            )
        )
    return bars


def numeric_histogram(
    reference: np.ndarray, current: np.ndarray, bins: int = HISTOGRAM_BINS
) -> Histogram | None:
    """Both periods on `bins` equal-width bins over their joint 1st..99th percentile.

    None when either period has no finite value. A feature that is constant over that
    range gets one unit-wide span around its value.
    """
    ref = _finite(reference)
    cur = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return None
    low, high = (float(v) for v in np.percentile(np.concatenate([ref, cur]), [1, 99]))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    return Histogram(
        edges=[float(edge) for edge in edges],
        baseline=_shares(ref, edges),
        window=_shares(cur, edges),
    )


def _finite(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return [float(count) / values.size for count in counts]
