"""Which window points are new relative to a baseline sample: a local, neighbour-based test.

A window point is *novel* when both hold:

- its neighbourhood is dominated by the window: of its `neighbours` nearest
  points among baseline and window together, more come from the window than a
  binomial test at level `alpha` allows when both are drawn from one
  distribution (then each neighbour is a window point with probability
  (w - 1) / (b + w - 1));
- it lies farther from the baseline than a typical baseline point does: its
  mean distance to its `close` nearest baseline points exceeds the 75th
  percentile of the same measure for baseline points (each without itself).

The first finds dense groups that the baseline lacks; the second keeps a surge
of an existing kind of input (many near-copies of a baseline question) from
counting as new.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from liveeval.features.kmeans import squared_distances

_CHUNK = 1024  # rows of a distance matrix computed at once
SPREAD_QUANTILE = 0.75


def _row_chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(start + _CHUNK, n))


def mean_nearest_distance(
    points: np.ndarray, reference: np.ndarray, close: int = 5, exclude_self: bool = False
) -> np.ndarray:
    """Mean Euclidean distance from each point to its `close` nearest reference points.

    With `exclude_self`, `points` is `reference` and each point's own zero distance is skipped.
    """
    count = min(close, len(reference) - (1 if exclude_self else 0))
    out = np.zeros(len(points))
    if count <= 0:
        return out
    for rows in _row_chunks(len(points)):
        distances = squared_distances(points[rows], reference)
        if exclude_self:
            distances[np.arange(distances.shape[0]), np.arange(rows.start, rows.stop)] = np.inf
        nearest = np.partition(distances, count - 1, axis=1)[:, :count]
        out[rows] = np.sqrt(nearest).mean(axis=1)
    return out


def reference_spread(reference: np.ndarray, close: int = 5) -> float:
    """How far a typical baseline point lies from its `close` nearest others (75th percentile)."""
    if len(reference) < 2:
        return 0.0
    distances = mean_nearest_distance(reference, reference, close, exclude_self=True)
    return float(np.quantile(distances, SPREAD_QUANTILE))


def window_share_of_neighbours(
    window: np.ndarray, reference: np.ndarray, neighbours: int = 20
) -> tuple[np.ndarray, int]:
    """How many of each window point's nearest neighbours (itself excluded) are window points.

    Returns the counts and the number of neighbours looked at.
    """
    count = min(neighbours, len(reference) + len(window) - 1)
    counts = np.zeros(len(window), dtype=np.int64)
    if count <= 0:
        return counts, 0
    for rows in _row_chunks(len(window)):
        to_window = squared_distances(window[rows], window)
        to_window[np.arange(to_window.shape[0]), np.arange(rows.start, rows.stop)] = np.inf
        distances = np.concatenate([squared_distances(window[rows], reference), to_window], axis=1)
        nearest = np.argpartition(distances, count - 1, axis=1)[:, :count]
        counts[rows] = (nearest >= len(reference)).sum(axis=1)
    return counts, count


def novel_points(
    window: np.ndarray,
    reference: np.ndarray,
    reference_spread: float,
    neighbours: int = 20,
    close: int = 5,
    alpha: float = 0.01,
) -> np.ndarray:
    """Boolean mask of the window's novel points (see the module's docstring).

    `reference_spread` is the `SPREAD_QUANTILE` quantile of `mean_nearest_distance(reference,
    reference, close, exclude_self=True)` (see `reference_spread`), computed once per baseline.
    """
    if len(window) < 2 or len(reference) == 0:
        return np.zeros(len(window), dtype=bool)
    counts, looked_at = window_share_of_neighbours(window, reference, neighbours)
    null_share = (len(window) - 1) / (len(reference) + len(window) - 1)
    from scipy.stats import binom  # on use: 65 MB the server's pages need not hold

    dominated = binom.sf(counts - 1, looked_at, null_share) < alpha
    far = mean_nearest_distance(window, reference, close) > reference_spread
    return np.asarray(dominated & far, dtype=bool)
