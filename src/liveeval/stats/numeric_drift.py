"""Drift of a numeric feature: two-sample KS, normalized Wasserstein distance and PSI.

`numeric_drift` sorts each side once and derives every statistic from the two sorted
arrays: one merge gives both empirical CDFs at every observed value, hence the KS
statistic (their largest gap) and the Wasserstein distance (the area between them);
PSI counts each side into the reference's quantile bins by binary search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT_KS_MAX_N = 10_000  # as scipy's method="auto": exact p-value up to this many rows a side
PSI_EPSILON = 1e-4  # share given to an empty bin, so that PSI stays finite (Evidently's)
STD_FLOOR = 1e-3  # Wasserstein is divided by max(std(reference), this), as Evidently does


@dataclass(frozen=True, slots=True)
class NumericDrift:
    """How a numeric feature's distribution moved between a reference and a current window."""

    ks_statistic: float
    ks_p_value: float
    wasserstein_norm: float
    psi: float
    reference_median: float
    current_median: float
    n_reference: int
    n_current: int
    reference_p10: float = math.nan
    current_p10: float = math.nan
    reference_p90: float = math.nan
    current_p90: float = math.nan


def _finite_sorted(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return np.sort(array[np.isfinite(array)])


def _ecdf_gaps(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merged sorted values of two sorted samples and F_ref - F_cur at each of them."""
    n_ref, n_cur = reference.size, current.size
    # where each current value lands in the merged order (reference first on ties)
    positions = np.searchsorted(reference, current, side="right") + np.arange(n_cur)
    from_current = np.zeros(n_ref + n_cur, dtype=bool)
    from_current[positions] = True
    merged = np.empty(n_ref + n_cur, dtype=np.float64)
    merged[positions] = current
    merged[~from_current] = reference
    cur_count = np.cumsum(from_current)
    ref_count = np.arange(1, n_ref + n_cur + 1) - cur_count
    return merged, ref_count / n_ref - cur_count / n_cur


def _ks_statistic(merged: np.ndarray, gaps: np.ndarray) -> float:
    # the ECDFs are right-continuous: compare them after the last of each run of ties
    last_of_ties = np.append(merged[1:] != merged[:-1], True)
    return float(np.max(np.abs(gaps[last_of_ties])))


def _wasserstein(merged: np.ndarray, gaps: np.ndarray) -> float:
    return float(np.sum(np.abs(gaps[:-1]) * np.diff(merged)))


def _ks_p_equal_sizes(n: int, h: int) -> float:
    """P(D >= h/n) for two samples of n: Gnedenko and Korolyuk's alternating series."""
    # 2 * sum_k (-1)^(k-1) C(2n, n-kh) / C(2n, n), each ratio a product of h factors,
    # summed innermost-first (Horner) to avoid cancellation
    # (the k-th factor is C(2n, n-(k+1)h) / C(2n, n-kh))
    j = np.arange(h)
    total = 0.0
    for k in range(n // h, -1, -1):
        ratio = float(np.prod((n - k * h - j) / (n + k * h + j + 1)))
        total = ratio * (1.0 - total)
    return 2.0 * total


def _ks_p_lattice(m: int, n: int, h: int) -> float:
    """P(D >= d) by counting monotone lattice paths from (0, 0) to (m, n) that stay in the band.

    A step along x is a value of one sample (m of them), along y of the other (n); the
    ECDF gap at (x, y) is (x*n - y*m) / (m*n). Paths with |x*n/g - y*m/g| < h throughout
    have D < d. Each column of counts is the running sum of the previous one inside the
    band. Columns run along the smaller sample; counts are rescaled when they grow large
    (their logarithm kept), so they never overflow.
    """
    m, n = min(m, n), max(m, n)
    g = math.gcd(m, n)
    mg, ng = m // g, n // g
    counts = np.zeros(n + 1, dtype=np.float64)
    counts[0] = 1.0
    log_scale, low_prev = 0.0, 0
    for x in range(m + 1):
        low = max((x * ng - h) // mg + 1, 0)
        high = min(-(-(x * ng + h) // mg) - 1, n)
        if high < low:
            return 1.0  # no path stays inside: D >= d for every ordering
        counts[low_prev:low] = 0.0
        band = counts[low : high + 1]
        np.cumsum(band, out=band)
        top = float(band[-1])
        if top > 1e200:
            band /= top
            log_scale += math.log(top)
        low_prev = low
    log_paths = math.lgamma(m + n + 1) - math.lgamma(m + 1) - math.lgamma(n + 1)
    inside = math.exp(math.log(counts[n]) + log_scale - log_paths) if counts[n] > 0 else 0.0
    return min(max(1.0 - inside, 0.0), 1.0)


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sided p-value of the two-sample KS statistic, as scipy's ks_2samp (method="auto").

    Exact (the path count) when both samples have at most 10,000 rows, else the
    one-sample KS distribution at n = n_ref*n_cur/(n_ref+n_cur), as scipy's "asymp".
    """
    m, n = max(n_reference, n_current), min(n_reference, n_current)
    if m <= EXACT_KS_MAX_N:
        lcm = m // math.gcd(m, n) * n
        h = round(statistic * lcm)
        if h == 0:
            return 1.0
        p = _ks_p_equal_sizes(n, h) if m == n else _ks_p_lattice(m, n, h)
        if math.isfinite(p) and 0.0 <= p <= 1.0:
            return p
    effective_n = round(m * n / (m + n))
    # scipy.stats for samples past EXACT_KS_MAX_N only: importing it costs a process 65 MB
    # (the server imports this module for its pages).
    from scipy.stats import kstwo

    return float(np.clip(kstwo.sf(statistic, effective_n), 0.0, 1.0))


def ks_2samp(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov–Smirnov test: (statistic, p-value), as scipy's default."""
    ref, cur = _finite_sorted(reference), _finite_sorted(current)
    _require_rows(ref, cur)
    statistic = _ks_statistic(*_ecdf_gaps(ref, cur))
    return statistic, ks_p_value(statistic, ref.size, cur.size)


def wasserstein_norm(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein-1 distance divided by the reference's standard deviation (Evidently's).

    The standard deviation is floored at 0.001, as Evidently does, so a constant
    reference does not divide by zero.
    """
    ref, cur = _finite_sorted(reference), _finite_sorted(current)
    _require_rows(ref, cur)
    return _wasserstein(*_ecdf_gaps(ref, cur)) / max(float(np.std(ref)), STD_FLOOR)


def sorted_quantiles(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of already sorted values, interpolated as numpy's default ("linear")."""
    position = np.asarray(levels, dtype=np.float64) * (sorted_values.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, sorted_values.size - 1)
    weight = position - below
    low, high = sorted_values[below], sorted_values[above]
    return np.where(weight > 0, low + (high - low) * weight, low)


def quantile_bin_edges(sorted_reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner edges of `bins` equal-share bins of the sorted reference; repeated edges merged."""
    return np.unique(sorted_quantiles(sorted_reference, np.arange(1, bins) / bins))


def psi_from_shares(
    reference: np.ndarray, current: np.ndarray, epsilon: float = PSI_EPSILON
) -> float:
    """PSI = sum (cur - ref) * ln(cur / ref) over bins; empty bins get `epsilon`."""
    ref = np.where(reference > 0, reference, epsilon)
    cur = np.where(current > 0, current, epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _binned_shares(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # bins are (-inf, e1], (e1, e2], ..., (ek, inf)
    cumulative = np.searchsorted(sorted_values, edges, side="right")
    counts = np.diff(cumulative, prepend=0, append=sorted_values.size)
    return counts / sorted_values.size


def _sorted_psi(ref: np.ndarray, cur: np.ndarray, bins: int) -> float:
    edges = quantile_bin_edges(ref, bins)
    return psi_from_shares(_binned_shares(ref, edges), _binned_shares(cur, edges))


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index on `bins` quantile bins of the reference."""
    ref, cur = _finite_sorted(reference), _finite_sorted(current)
    _require_rows(ref, cur)
    return _sorted_psi(ref, cur, bins)


def _require_rows(ref: np.ndarray, cur: np.ndarray) -> None:
    if ref.size == 0 or cur.size == 0:
        raise ValueError(
            f"drift needs values on both sides (reference {ref.size}, current {cur.size})"
        )


def numeric_drift(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> NumericDrift:
    """KS, normalized Wasserstein and PSI of two samples, each side sorted once.

    NaN (missing) and infinite values are dropped, here as in every function of this module.
    """
    ref, cur = _finite_sorted(reference), _finite_sorted(current)
    _require_rows(ref, cur)
    merged, gaps = _ecdf_gaps(ref, cur)
    statistic = _ks_statistic(merged, gaps)
    levels = np.array([0.1, 0.5, 0.9])
    ref_q, cur_q = sorted_quantiles(ref, levels), sorted_quantiles(cur, levels)
    return NumericDrift(
        ks_statistic=statistic,
        ks_p_value=ks_p_value(statistic, ref.size, cur.size),
        wasserstein_norm=_wasserstein(merged, gaps) / max(float(np.std(ref)), STD_FLOOR),
        psi=_sorted_psi(ref, cur, bins),
        reference_median=float(ref_q[1]),
        current_median=float(cur_q[1]),
        n_reference=int(ref.size),
        n_current=int(cur.size),
        reference_p10=float(ref_q[0]),
        current_p10=float(cur_q[0]),
        reference_p90=float(ref_q[2]),
        current_p90=float(cur_q[2]),
    )
