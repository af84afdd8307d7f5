"""Rank tests on two independent samples."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mann_whitney(b: Sequence[float], a: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann–Whitney U of B against A (scipy's, with its tie correction);
    (nan, 1.0) when a side is empty: no evidence."""
    if not a or not b:
        return math.nan, 1.0
    from scipy.stats import mannwhitneyu  # on use: 65 MB the server's pages need not hold

    result = mannwhitneyu(b, a, alternative="two-sided")
    p = float(result.pvalue)
    return float(result.statistic), 1.0 if math.isnan(p) else p
