from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from liveeval.features.kmeans import kmeans, squared_distances


def test_separated_blobs_are_recovered_like_sklearn_does() -> None:
    points, truth = make_blobs(n_samples=600, centers=6, n_features=16, random_state=3)
    ours = kmeans(points, 6, seed=0)
    reference = KMeans(n_clusters=6, n_init=4, random_state=0).fit(points)
    assert adjusted_rand_score(truth, ours.labels) == 1.0
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-6)


def test_inertia_on_unstructured_data_is_close_to_sklearns() -> None:
    points = np.random.default_rng(4).normal(size=(300, 8))
    ours = kmeans(points, 10, seed=1, restarts=4)
    reference = KMeans(n_clusters=10, n_init=4, random_state=1).fit(points)
    assert ours.inertia == pytest.approx(reference.inertia_, rel=0.03)


def test_each_point_is_labelled_with_its_nearest_centroid_and_centroids_are_means() -> None:
    points = np.random.default_rng(5).normal(size=(300, 5))
    result = kmeans(points, 7, seed=2)
    distances = squared_distances(points, result.centroids)
    np.testing.assert_array_equal(result.labels, distances.argmin(axis=1))
    for cluster in range(7):
        np.testing.assert_allclose(
            result.centroids[cluster], points[result.labels == cluster].mean(axis=0), atol=1e-9
        )
    assert result.inertia == pytest.approx(distances.min(axis=1).sum())


def test_the_same_seed_gives_the_same_clusters() -> None:
    points = np.random.default_rng(6).normal(size=(200, 4))
    np.testing.assert_array_equal(
        kmeans(points, 5, seed=9).labels, kmeans(points, 5, seed=9).labels
    )


def test_duplicate_points_fewer_than_k_distinct_still_give_k_centroids() -> None:
    points = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    result = kmeans(points, 3)
    assert result.centroids.shape == (3, 2)
    assert result.inertia == pytest.approx(0.0)


def test_squared_distances_match_the_direct_formula() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(4, 3))
    direct = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_allclose(squared_distances(a, b), direct, atol=1e-12)


@pytest.mark.parametrize("k", [0, 11])
def test_k_outside_one_to_n_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="k must be between 1 and"):
        kmeans(np.zeros((10, 2)), k)
