"""The drift page's figures: bars per category and histograms on shared bins."""

import numpy as np
import pytest

from liveeval.monitor.drift import DriftThresholds, categorical_feature_drift, numeric_feature_drift
from liveeval.monitor.drift_shapes import category_bars, numeric_histogram
from liveeval.stats.categorical_drift import categorical_drift


def test_bars_show_the_largest_categories_and_fold_the_rest() -> None:
    reference = {"en": 80, "de": 4, **{f"x{i}": 2 for i in range(8)}}
    current = {"en": 60, "de": 19, "fr": 5, **{f"x{i}": 2 for i in range(8)}}
    bars = category_bars("language", categorical_drift(reference, current), top=3)
    assert [bar.label for bar in bars] == ["English", "German", "French", "other (8)"]
    english, german, french, other = bars
    assert english.baseline == pytest.approx(0.8) and english.window == pytest.approx(60 / 100)
    assert german.baseline == pytest.approx(0.04) and german.window == pytest.approx(0.19)
    assert french.baseline == 0 and french.window == pytest.approx(0.05)
    assert other.baseline == pytest.approx(0.16) and other.window == pytest.approx(0.16)
    assert sum(bar.baseline for bar in bars) == pytest.approx(1)
    assert sum(bar.window for bar in bars) == pytest.approx(1)


def test_bars_use_the_callers_labels() -> None:
    detail = categorical_drift({"7": 12, "3": 5}, {"7": 5, "3": 10})
    bars = category_bars("topic", detail, {"topic": {"7": "card payments"}})
    assert [bar.label for bar in bars] == ["card payments", "3"]


def test_a_histogram_puts_both_periods_on_the_same_bins() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(100, 10, 5000)
    current = rng.normal(120, 10, 5000)
    shape = numeric_histogram(reference, current, bins=10)
    assert shape is not None
    both = np.concatenate([reference, current])
    low, high = np.percentile(both, [1, 99])
    assert shape.edges == pytest.approx(list(np.linspace(low, high, 11)))
    assert sum(shape.baseline) == pytest.approx(1) and sum(shape.window) == pytest.approx(1)
    # the window's mass sits to the right of the baseline's
    centres = (np.array(shape.edges[:-1]) + np.array(shape.edges[1:])) / 2
    assert centres @ np.array(shape.window) - centres @ np.array(shape.baseline) > 15
    # a bin's share is the share of rows in it, the outer bins taking what lies beyond
    inside = (current > shape.edges[4]) & (current <= shape.edges[5])
    assert shape.window[4] == pytest.approx(inside.mean(), abs=1 / current.size)
    assert shape.window[-1] == pytest.approx((current >= shape.edges[-2]).mean(), abs=1e-3)


def test_one_outlier_does_not_squash_the_histogram() -> None:
    values = np.arange(1000, dtype=float) % 10
    shape = numeric_histogram(np.append(values, 1e9), values, bins=10)
    assert shape is not None
    assert shape.edges[-1] < 10
    assert max(shape.window) < 0.25  # spread over the bins, not all in the first


def test_a_constant_feature_and_an_empty_period() -> None:
    shape = numeric_histogram(np.full(50, 3.0), np.full(40, 3.0), bins=4)
    assert shape is not None
    assert shape.edges[0] == 2.5 and shape.edges[-1] == 3.5
    assert sum(shape.baseline) == pytest.approx(1)
    assert numeric_histogram(np.array([np.nan]), np.ones(5)) is None


def test_verdicts_carry_their_shapes() -> None:
    t = DriftThresholds()
    rng = np.random.default_rng(2)
    numeric = numeric_feature_drift(
        "input_chars", rng.normal(100, 10, 400), rng.normal(130, 10, 400), t
    )
    assert numeric.histogram is not None and numeric.bars == []
    languages = categorical_feature_drift(
        "language", np.array(["en"] * 300 + ["de"] * 100), np.array(["en"] * 150 + ["de"] * 250), t
    )
    assert [bar.label for bar in languages.bars] == ["English", "German"]
    assert languages.histogram is None
    assert languages.to_dict()["bars"][0] == {"label": "English", "baseline": 0.75, "window": 0.375}
