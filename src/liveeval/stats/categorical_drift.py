"""Drift of a categorical feature: chi-squared, Jensen–Shannon distance and PSI over counts.

Every function takes counts per category (`category_counts` makes them from raw values,
a SQL GROUP BY makes them in the store). A category seen on one side only is a real
category with a zero on the other side: a new language or topic is the classic drift.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from liveeval.stats.numeric_drift import PSI_EPSILON, psi_from_shares

MISSING = "(missing)"  # the category of None and NaN values
RARE = "(rare)"  # the pool of categories too rare for the chi-squared approximation
MIN_EXPECTED = 5.0  # Cochran's rule: expected counts below this are pooled before the test


@dataclass(frozen=True, slots=True)
class CategoricalDrift:
    """How a categorical feature's mix moved between a reference and a current window.

    `reference_shares` and `current_shares` cover the categories of both sides (a zero
    where a side lacks one); `new_categories` and `vanished_categories` are ordered by
    their share, largest first.
    """

    chi2: float
    chi2_p_value: float
    js_distance: float
    psi: float
    reference_shares: dict[str, float]
    current_shares: dict[str, float]
    new_categories: tuple[str, ...]
    vanished_categories: tuple[str, ...]
    n_reference: int
    n_current: int


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def category_counts(values: np.ndarray | Sequence[str | None]) -> dict[str, int]:
    """Rows per category; None and NaN count as the category "(missing)".

    Missing values are kept, not dropped: a rise in them (a detector that stops
    answering, a field that stops arriving) is drift too. Non-string values are
    named by `str()`. Integer and fixed-width string arrays are counted by
    `np.unique`, anything else by a `Counter`.
    """
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.dtype.kind in "iubUS":
        keys, counts = np.unique(array, return_counts=True)
        return {
            str(key): int(count) for key, count in zip(keys.tolist(), counts.tolist(), strict=True)
        }
    if array is not None and array.dtype.kind == "f":
        missing = np.isnan(array)
        keys, counts = np.unique(array[~missing], return_counts=True)
        result = {
            str(key): int(count) for key, count in zip(keys.tolist(), counts.tolist(), strict=True)
        }
        if missing.any():
            result[MISSING] = int(missing.sum())
        return result
    named: dict[str, int] = {}
    for key, count in Counter(array.tolist() if array is not None else values).items():
        name = MISSING if _is_missing(key) else key if isinstance(key, str) else str(key)
        named[name] = named.get(name, 0) + count
    return named


def _aligned(
    reference: Mapping[str, int], current: Mapping[str, int]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The categories seen on either side and the counts of each side, in one order."""
    keys = [key for key, count in reference.items() if count > 0]
    keys += [key for key, count in current.items() if count > 0 and reference.get(key, 0) <= 0]
    ref = np.array([reference.get(key, 0) for key in keys], dtype=np.float64)
    cur = np.array([current.get(key, 0) for key in keys], dtype=np.float64)
    if any(count < 0 for count in reference.values()) or any(c < 0 for c in current.values()):
        raise ValueError("category counts must not be negative")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError(
            f"drift needs rows on both sides (reference {ref.sum():.0f}, current {cur.sum():.0f})"
        )
    return keys, ref, cur


def _chi_squared(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    if ref.size < 2:
        return 0.0, 1.0
    table = np.vstack([ref, cur])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    # chi2.sf is chdtrc in scipy.stats; scipy.special, imported on the first test, is a
    # third of scipy.stats' 65 MB (the server imports this module for its pages).
    from scipy.special import chdtrc

    return statistic, float(chdtrc(ref.size - 1, statistic))


def chi_squared(reference: Mapping[str, int], current: Mapping[str, int]) -> tuple[float, float]:
    """Pearson's chi-squared test of homogeneity on the 2 x k table of counts: (statistic, p).

    Both windows are samples, so this is the two-sample test (scipy's
    `chi2_contingency(table, correction=False)`), not a goodness-of-fit test against
    the reference's shares, which would treat the reference as exact and alarm too
    often. No continuity correction; k - 1 degrees of freedom.
    """
    _, ref, cur = _aligned(reference, current)
    return _chi_squared(ref, cur)


def _rare(ref: np.ndarray, cur: np.ndarray, min_expected: float) -> np.ndarray:
    """Categories whose expected count in the smaller window is under `min_expected`."""
    smaller = min(ref.sum(), cur.sum())
    return np.asarray((ref + cur) * smaller / (ref.sum() + cur.sum()) < min_expected)


def _pooled(ref: np.ndarray, cur: np.ndarray, min_expected: float) -> tuple[np.ndarray, ...]:
    rare = _rare(ref, cur, min_expected)
    if not rare.any():
        return ref, cur
    return (
        np.append(ref[~rare], ref[rare].sum()),
        np.append(cur[~rare], cur[rare].sum()),
    )


def pool_rare_categories(
    reference: Mapping[str, int], current: Mapping[str, int], min_expected: float = MIN_EXPECTED
) -> tuple[dict[str, int], dict[str, int]]:
    """Both count tables with categories whose expected count is below `min_expected` in
    either window merged into one "(rare)" category, as the chi-squared approximation asks."""
    keys, ref, cur = _aligned(reference, current)
    rare = _rare(ref, cur, min_expected)
    pooled_ref = {key: int(n) for key, n, r in zip(keys, ref, rare, strict=True) if not r}
    pooled_cur = {key: int(n) for key, n, r in zip(keys, cur, rare, strict=True) if not r}
    if rare.any():
        pooled_ref[RARE] = int(ref[rare].sum())
        pooled_cur[RARE] = int(cur[rare].sum())
    return pooled_ref, pooled_cur


def _js_distance(p: np.ndarray, q: np.ndarray) -> float:
    mean = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.sum(np.where(p > 0, p * np.log(p / mean), 0.0))
        kl_q = np.sum(np.where(q > 0, q * np.log(q / mean), 0.0))
    return math.sqrt(max((kl_p + kl_q) / 2, 0.0))


def jensen_shannon_distance(reference: Mapping[str, int], current: Mapping[str, int]) -> float:
    """Jensen–Shannon distance of the two mixes, natural logarithm (0 to sqrt(ln 2) ≈ 0.83).

    The square root of the JS divergence, as scipy's `jensenshannon` with its default
    base, which Evidently uses for its 0.1 threshold.
    """
    _, ref, cur = _aligned(reference, current)
    return _js_distance(ref / ref.sum(), cur / cur.sum())


def psi_categorical(
    reference: Mapping[str, int], current: Mapping[str, int], epsilon: float = PSI_EPSILON
) -> float:
    """PSI over categories; a category absent on one side gets share `epsilon` (0.0001 as in
    Evidently), so a new category of 5% adds 0.05 * ln(0.05 / 0.0001) ≈ 0.31 by itself."""
    _, ref, cur = _aligned(reference, current)
    return psi_from_shares(ref / ref.sum(), cur / cur.sum(), epsilon)


def categorical_drift(
    reference: Mapping[str, int],
    current: Mapping[str, int],
    min_expected: float = MIN_EXPECTED,
) -> CategoricalDrift:
    """Chi-squared, JS distance, PSI, shares, new and vanished categories of two count tables.

    The chi-squared test runs on the table with rare categories pooled (expected count
    under `min_expected`, Cochran's rule), so a long tail of one-off values cannot make
    it alarm; the distances use every category.
    """
    keys, ref, cur = _aligned(reference, current)
    p, q = ref / ref.sum(), cur / cur.sum()
    statistic, p_value = _chi_squared(*_pooled(ref, cur, min_expected))
    new = [keys[i] for i in np.argsort(-q, kind="stable") if p[i] == 0]
    vanished = [keys[i] for i in np.argsort(-p, kind="stable") if q[i] == 0]
    return CategoricalDrift(
        chi2=statistic,
        chi2_p_value=p_value,
        js_distance=_js_distance(p, q),
        psi=psi_from_shares(p, q),
        reference_shares=dict(zip(keys, p.tolist(), strict=True)),
        current_shares=dict(zip(keys, q.tolist(), strict=True)),
        new_categories=tuple(new),
        vanished_categories=tuple(vanished),
        n_reference=int(ref.sum()),
        n_current=int(cur.sum()),
    )
