"""Grouping near-identical failures: the index's similarity is scipy's cosine."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cosine

from liveeval.flywheel.intake import GroupIndex


def test_best_is_the_most_cosine_similar_group() -> None:
    rng = np.random.default_rng(3)
    rows = [rng.normal(size=8).astype(np.float32) * rng.uniform(0.1, 9) for _ in range(20)]
    index = GroupIndex(list(range(100, 120)), rows)
    query = rng.normal(size=8).astype(np.float32)
    reference = [1 - cosine(query, row) for row in rows]
    group, similarity = index.best(query)
    assert group == 100 + int(np.argmax(reference))
    assert abs(similarity - max(reference)) < 1e-5


def test_new_groups_are_found_and_empty_inputs_match_each_other() -> None:
    index = GroupIndex([], [])
    assert index.best(np.ones(4)) == (None, -1.0)
    index.add(1, np.array([1.0, 0, 0, 0]))
    index.add(2, np.zeros(4))
    assert index.best(np.array([2.0, 0, 0, 0])) == (1, 1.0)
    assert index.best(np.zeros(4)) == (2, 1.0)
    assert index.best(np.ones(3))[0] is None  # another encoder's width never matches
