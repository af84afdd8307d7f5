from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveeval.stats.histogram import (
    LATENCY_EDGES_MS,
    SCORE_LEVELS,
    bucket_counts,
    bucket_index,
    discrete_quantile,
    histogram_quantile,
)

latencies = st.lists(st.floats(min_value=0.0, max_value=4e6), min_size=1, max_size=60)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def latency_sample(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "lognormal":
        return rng.lognormal(math.log(rng.uniform(200, 3000)), rng.uniform(0.3, 1.2), 5000)
    if kind == "exponential":
        return 50 + rng.exponential(rng.uniform(100, 5000), 5000)
    fast = rng.lognormal(math.log(300), 0.3, 4000)  # cache hits
    slow = rng.lognormal(math.log(8000), 0.5, 1000)  # long generations
    return np.concatenate([fast, slow])


def test_latency_edges_rise_from_one_millisecond_past_half_an_hour() -> None:
    edges = np.array(LATENCY_EDGES_MS)
    assert edges[0] == 1.0
    assert edges[-1] >= 30 * 60 * 1000
    assert len(edges) + 1 <= 66
    assert (np.diff(edges) > 0).all()
    assert (edges[1:] / edges[:-1]).max() < 1.27


def test_a_value_on_an_edge_belongs_to_the_bucket_below() -> None:
    edges = (1.0, 10.0, 100.0)
    assert [bucket_index(v, edges) for v in (0.5, 1.0, 1.5, 10.0, 100.0, 100.1)] == [
        0,
        0,
        1,
        1,
        2,
        3,
    ]


@given(latencies)
@settings(max_examples=50)
def test_bucket_counts_agree_with_bucket_index_and_lose_nothing(values: list[float]) -> None:
    counts = bucket_counts(np.array(values), LATENCY_EDGES_MS)
    assert len(counts) == len(LATENCY_EDGES_MS) + 1
    assert counts.sum() == len(values)
    expected = np.zeros(len(counts), dtype=int)
    for value in values:
        expected[bucket_index(value, LATENCY_EDGES_MS)] += 1
    assert (counts == expected).all()


def test_nan_cannot_be_bucketed() -> None:
    with pytest.raises(ValueError):
        bucket_index(math.nan, LATENCY_EDGES_MS)
    with pytest.raises(ValueError):
        bucket_counts(np.array([1.0, math.nan]), LATENCY_EDGES_MS)


@given(latencies, quantiles)
@settings(max_examples=100)
def test_histogram_quantile_lies_in_the_bucket_of_the_exact_quantile(
    values: list[float], q: float
) -> None:
    edges = np.array(LATENCY_EDGES_MS)
    exact = float(np.quantile(values, q, method="inverted_cdf"))
    estimate = histogram_quantile(bucket_counts(np.array(values), edges), edges, q)
    bucket = bucket_index(exact, edges)
    if bucket == len(edges):
        assert estimate == edges[-1]
    else:
        lower = edges[bucket - 1] if bucket else 0.0
        assert lower <= estimate <= edges[bucket]


@pytest.mark.parametrize("kind", ["lognormal", "exponential", "bimodal"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_histogram_quantiles_of_latencies_are_within_ten_percent(
    kind: str, seed: int, q: float
) -> None:
    values = latency_sample(kind, seed)
    counts = bucket_counts(values, LATENCY_EDGES_MS)
    estimate = histogram_quantile(counts, LATENCY_EDGES_MS, q)
    assert estimate == pytest.approx(np.quantile(values, q), rel=0.10)


def test_per_minute_histograms_add_into_the_window_histogram() -> None:
    values = latency_sample("bimodal", 7)
    minutes = [bucket_counts(chunk, LATENCY_EDGES_MS) for chunk in np.array_split(values, 60)]
    window = np.sum(minutes, axis=0)
    assert (window == bucket_counts(values, LATENCY_EDGES_MS)).all()


def test_histogram_quantile_reads_like_prometheus() -> None:
    edges = (100.0, 200.0, 400.0)
    # 10 values up to 100, 30 in (100, 200], 60 in (200, 400], none above.
    counts = [10, 30, 60, 0]
    assert histogram_quantile(counts, edges, 0.05) == pytest.approx(50.0)
    assert histogram_quantile(counts, edges, 0.25) == pytest.approx(150.0)
    assert histogram_quantile(counts, edges, 0.7) == pytest.approx(300.0)
    assert histogram_quantile(counts, edges, 1.0) == pytest.approx(400.0)


def test_a_quantile_in_the_overflow_bucket_is_the_last_edge() -> None:
    assert histogram_quantile([1, 0, 9], (1.0, 2.0), 0.5) == 2.0


def test_quantile_zero_is_the_lower_edge_of_the_first_non_empty_bucket() -> None:
    assert histogram_quantile([0, 0, 4, 0], (1.0, 2.0, 4.0), 0.0) == 2.0


def test_an_empty_histogram_has_no_quantile() -> None:
    assert math.isnan(histogram_quantile([0] * 4, (1.0, 2.0, 3.0), 0.5))


def test_counts_that_do_not_fit_the_edges_are_refused() -> None:
    with pytest.raises(ValueError):
        histogram_quantile([1, 2, 3], (1.0, 2.0, 3.0), 0.5)
    with pytest.raises(ValueError):
        histogram_quantile([1, 2], (1.0,), 1.5)


@given(st.lists(st.sampled_from(SCORE_LEVELS), min_size=1, max_size=200), quantiles)
@settings(max_examples=100)
def test_discrete_quantile_matches_numpys_inverted_cdf(scores: list[int], q: float) -> None:
    counts = {level: scores.count(level) for level in SCORE_LEVELS}
    assert discrete_quantile(counts, q) == np.quantile(scores, q, method="inverted_cdf")


@pytest.mark.parametrize("n", [10, 30, 50, 70, 100, 1000])
@pytest.mark.parametrize("q", [0.1, 0.3, 0.7, 0.9])
def test_discrete_quantile_agrees_with_numpy_where_n_times_q_is_nearly_whole(
    n: int, q: float
) -> None:
    scores = np.sort(np.random.default_rng(n).choice(SCORE_LEVELS, n))
    counts = {int(level): int((scores == level).sum()) for level in SCORE_LEVELS}
    assert discrete_quantile(counts, q) == np.quantile(scores, q, method="inverted_cdf")


def test_discrete_quantile_skips_empty_levels_and_is_nan_when_all_are() -> None:
    assert discrete_quantile({1: 0, 2: 0, 3: 5, 4: 0, 5: 1}, 0.1) == 3.0
    assert discrete_quantile({5: 2, 1: 2}, 0.5) == 1.0
    assert math.isnan(discrete_quantile({1: 0, 2: 0}, 0.1))
    assert math.isnan(discrete_quantile({}, 0.1))
