"""k-means (Lloyd's algorithm) with k-means++ seeding and restarts, in NumPy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KMeansResult:
    """Centroids (k, d), each point's cluster (n,), and the inertia (sum of squared distances)."""

    centroids: np.ndarray
    labels: np.ndarray
    inertia: float


def squared_distances(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, (n, k)."""
    distances = (
        np.square(points).sum(axis=1)[:, None]
        - 2.0 * points @ centroids.T
        + np.square(centroids).sum(axis=1)[None, :]
    )
    return np.maximum(distances, 0.0)


def kmeans_plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k initial centroids: each next one drawn with probability proportional to D(x)²."""
    centroids = np.empty((k, points.shape[1]), dtype=np.float64)
    centroids[0] = points[rng.integers(len(points))]
    closest = squared_distances(points, centroids[:1])[:, 0]
    for i in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than k: repeat one
            centroids[i] = points[rng.integers(len(points))]
            continue
        chosen = rng.choice(len(points), p=closest / total)
        centroids[i] = points[chosen]
        closest = np.minimum(closest, squared_distances(points, centroids[i : i + 1])[:, 0])
    return centroids


def _lloyd(
    points: np.ndarray, centroids: np.ndarray, max_iterations: int, tolerance: float
) -> KMeansResult:
    k = len(centroids)
    for _ in range(max_iterations):
        distances = squared_distances(points, centroids)
        labels = distances.argmin(axis=1)
        updated = np.empty_like(centroids)
        for cluster in range(k):
            members = points[labels == cluster]
            if len(members):
                updated[cluster] = members.mean(axis=0)
            else:  # an empty cluster takes the point worst served by its centroid
                worst = distances[np.arange(len(points)), labels].argmax()
                updated[cluster] = points[worst]
        shift = np.square(updated - centroids).sum()
        centroids = updated
        if shift <= tolerance:
            break
    distances = squared_distances(points, centroids)
    labels = distances.argmin(axis=1)
    inertia = float(distances[np.arange(len(points)), labels].sum())
    return KMeansResult(centroids=centroids, labels=labels, inertia=inertia)


def kmeans(
    points: np.ndarray,
    k: int,
    seed: int = 0,
    restarts: int = 4,
    max_iterations: int = 100,
    tolerance: float = 1e-8,
) -> KMeansResult:
    """The best of `restarts` k-means runs (lowest inertia), each seeded by k-means++."""
    data = np.asarray(points, dtype=np.float64)
    if not 1 <= k <= len(data):
        raise ValueError(f"k must be between 1 and the number of points ({len(data)}), got {k}")
    if restarts < 1:
        raise ValueError(f"restarts must be at least 1, got {restarts}")
    rng = np.random.default_rng(seed)
    scale = float(np.square(data - data.mean(axis=0)).sum(axis=1).mean()) or 1.0
    best: KMeansResult | None = None
    for _ in range(restarts):
        start = kmeans_plus_plus(data, k, rng)
        result = _lloyd(data, start, max_iterations, tolerance * scale)
        if best is None or result.inertia < best.inertia:
            best = result
    assert best is not None  # restarts >= 1
    return best
