"""Fixed-bucket histograms and the quantiles read back from them.

Latency is rolled up per minute as counts in fixed buckets, so any window's
p50 and p95 come from summed counts, as Prometheus' `histogram_quantile`
reads them. A bucket holds the values up to and including its upper edge;
one overflow bucket after the last edge holds the rest.

Judge scores on the 1..5 scale are rolled up as counts per level; their
quantiles are exact (`discrete_quantile`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# Ten buckets a decade (each edge 10**0.1 ≈ 1.26 times the one before), from
# 1 ms to about 33 minutes, rounded to 4 significant digits: 64 edges plus the
# overflow bucket. A quantile read back is off by at most one bucket's width
# and, on smooth latency distributions, by a few percent.
LATENCY_EDGES_MS: tuple[float, ...] = tuple(float(f"{10 ** (k / 10):.4g}") for k in range(64))

SCORE_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


def bucket_index(value: float, edges: Sequence[float]) -> int:
    """The bucket of `value`: the first edge >= value, or len(edges) for overflow."""
    if math.isnan(value):
        raise ValueError("cannot bucket NaN")
    return int(np.searchsorted(np.asarray(edges, dtype=float), value, side="left"))


def bucket_counts(values: np.ndarray | Sequence[float], edges: Sequence[float]) -> np.ndarray:
    """Counts per bucket (len(edges) + 1 of them, the last for overflow)."""
    array = np.asarray(values, dtype=float).ravel()
    if np.isnan(array).any():
        raise ValueError("cannot bucket NaN")
    indices = np.searchsorted(np.asarray(edges, dtype=float), array, side="left")
    return np.bincount(indices, minlength=len(edges) + 1)


def histogram_quantile(
    counts: Sequence[int] | np.ndarray, edges: Sequence[float], q: float
) -> float:
    """The q-quantile of bucketed values, interpolated linearly inside its bucket.

    The first bucket starts at 0 (latencies are not negative); a quantile
    that falls in the overflow bucket is the last edge, as in Prometheus. NaN
    when the histogram is empty.
    """
    _check_q(q)
    bucket_totals = np.asarray(counts, dtype=float).ravel()
    bounds = np.asarray(edges, dtype=float)
    if bucket_totals.size != bounds.size + 1:
        raise ValueError(f"need {bounds.size + 1} counts for {bounds.size} edges")
    if (bucket_totals < 0).any():
        raise ValueError("counts cannot be negative")
    cumulative = np.cumsum(bucket_totals)
    total = cumulative[-1]
    if total == 0:
        return math.nan
    rank = q * total
    bucket = int(np.searchsorted(cumulative, rank, side="left"))
    while bucket_totals[bucket] == 0:  # rank 0 (or rounding) lands before the first value
        bucket += 1
    if bucket == bounds.size:
        return float(bounds[-1])
    upper = float(bounds[bucket])
    lower = float(bounds[bucket - 1]) if bucket > 0 else min(0.0, upper)
    below = float(cumulative[bucket - 1]) if bucket > 0 else 0.0
    fraction = (rank - below) / bucket_totals[bucket]
    return lower + (upper - lower) * min(1.0, max(0.0, fraction))


def discrete_quantile(level_counts: Mapping[int, int] | Mapping[float, int], q: float) -> float:
    """The q-quantile of values given as counts per level (numpy's inverted_cdf).

    The smallest level whose cumulative share reaches q; NaN when empty.
    """
    _check_q(q)
    levels = sorted((level, count) for level, count in level_counts.items() if count)
    if any(count < 0 for _, count in levels):
        raise ValueError("counts cannot be negative")
    total = sum(count for _, count in levels)
    if total == 0:
        return math.nan
    position = total * q - 1  # numpy's virtual index, so rounding agrees with it
    seen = 0
    for level, count in levels:
        seen += count
        if seen - 1 >= position:
            return float(level)
    return float(levels[-1][0])


def _check_q(q: float) -> None:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
