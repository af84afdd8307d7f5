from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from liveeval.features import novelty
from liveeval.features.novelty import (
    mean_nearest_distance,
    novel_points,
    reference_spread,
    window_share_of_neighbours,
)


def blobs(rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    """`count` points around each centre, spread 1."""
    return np.concatenate(
        [rng.normal(centre, 1.0, size=(count, centres.shape[1])) for centre in centres]
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distance matrices in chunks of 7 rows, so chunk borders are crossed."""
    monkeypatch.setattr(novelty, "_CHUNK", 7)


@pytest.mark.usefixtures("small_chunks")
def test_mean_nearest_distance_matches_sklearn_neighbours() -> None:
    rng = np.random.default_rng(0)
    reference, points = rng.normal(size=(60, 4)), rng.normal(size=(25, 4))
    distances, _ = NearestNeighbors(n_neighbors=5).fit(reference).kneighbors(points)
    np.testing.assert_allclose(mean_nearest_distance(points, reference, 5), distances.mean(axis=1))
    # without itself: sklearn's kneighbors() with no argument skips each point's own
    distances, _ = NearestNeighbors(n_neighbors=5).fit(reference).kneighbors()
    np.testing.assert_allclose(
        mean_nearest_distance(reference, reference, 5, exclude_self=True), distances.mean(axis=1)
    )


@pytest.mark.usefixtures("small_chunks")
def test_window_share_of_neighbours_matches_sklearn_neighbours() -> None:
    rng = np.random.default_rng(1)
    reference, window = rng.normal(size=(50, 3)), rng.normal(0.5, 1.0, size=(30, 3))
    counts, looked_at = window_share_of_neighbours(window, reference, neighbours=10)
    both = np.concatenate([reference, window])
    _, neighbours = NearestNeighbors(n_neighbors=10).fit(both).kneighbors()
    expected = (neighbours[len(reference) :] >= len(reference)).sum(axis=1)
    assert looked_at == 10
    np.testing.assert_array_equal(counts, expected)


def test_an_identical_window_has_no_novel_point() -> None:
    reference = blobs(np.random.default_rng(2), np.eye(5) * 8, 60)
    assert not novel_points(reference, reference, reference_spread(reference)).any()


def test_a_fresh_sample_of_the_same_distribution_is_hardly_novel() -> None:
    rng = np.random.default_rng(3)
    centres = np.eye(5) * 8
    reference, window = blobs(rng, centres, 60), blobs(rng, centres, 40)
    assert novel_points(window, reference, reference_spread(reference)).mean() < 0.02


def test_a_new_cluster_in_the_window_is_novel_and_the_rest_is_not() -> None:
    rng = np.random.default_rng(4)
    centres = np.eye(5) * 8
    reference = blobs(rng, centres, 60)
    window = np.concatenate([blobs(rng, centres, 40), blobs(rng, -centres[:1], 40)])
    novel = novel_points(window, reference, reference_spread(reference))
    assert novel[200:].mean() > 0.9
    assert novel[:200].mean() < 0.02


def test_tiny_inputs_have_no_novel_point() -> None:
    reference = np.zeros((1, 2))
    assert reference_spread(reference) == 0.0
    assert not novel_points(np.ones((1, 2)), reference, 0.0).any()
    assert novel_points(np.ones((0, 2)), reference, 0.0).shape == (0,)
