from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from tests.conftest import DATASETS

from liveeval.stats.means import Moments
from liveeval.stats.quality import ScoreSummary, quality_drift

SUMMEVAL = DATASETS / "judge-calibration"

scores = st.lists(st.floats(min_value=1.0, max_value=5.0), max_size=50)


def expert_coherence(system: str) -> list[float]:
    """SummEval: the mean of three experts' 1–5 coherence ratings of each summary."""
    path = SUMMEVAL / f"{system}_outputs_annotations.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [float(np.mean([a["coherence"] for a in row["expert_annotations"]])) for row in rows]


def normal_scores(mean: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.normal(mean, 0.9, n)), 1, 5)


@given(scores, scores)
@settings(max_examples=60)
def test_summaries_of_two_parts_add_up_to_the_summary_of_the_whole(
    a: list[float], b: list[float]
) -> None:
    whole = ScoreSummary.of_values(a + b)
    summed = ScoreSummary.of_values(a) + ScoreSummary.of_values(b)
    assert summed.level_counts == whole.level_counts
    assert summed.bad == whole.bad
    assert summed.n == whole.n
    assert summed.moments.total == pytest.approx(whole.moments.total)


def test_a_summary_counts_levels_rounding_half_up_and_bad_scores_at_two_or_less() -> None:
    summary = ScoreSummary.of_values([1.0, 2.0, 2.5, 2.49, 4.0, 5.0, 5.0])
    assert summary.level_counts == {1: 1, 2: 2, 3: 1, 4: 1, 5: 2}
    assert summary.bad == 2
    assert summary.moments == Moments.of_values([1.0, 2.0, 2.5, 2.49, 4.0, 5.0, 5.0])
    assert ScoreSummary.of_values([3.0, 3.0], bad_at=3).bad == 2


def test_summaries_with_different_bad_thresholds_do_not_add() -> None:
    with pytest.raises(ValueError):
        ScoreSummary.of_values([1.0], bad_at=2) + ScoreSummary.of_values([1.0], bad_at=3)


def test_p10_of_a_summary_is_numpys_inverted_cdf_of_the_rounded_scores() -> None:
    values = normal_scores(3.5, 333, seed=1)
    summary = ScoreSummary.of_values(values)
    assert summary.p10 == np.quantile(values, 0.1, method="inverted_cdf")
    assert math.isnan(ScoreSummary().p10)


def test_a_real_quality_drop_between_summarizers_is_detected() -> None:
    # SummEval experts rate system M22's summaries far more coherent than M11's.
    baseline, window = expert_coherence("M22"), expert_coherence("M11")
    drift = quality_drift(
        ScoreSummary.of_values(window), ScoreSummary.of_values(baseline), max_drop=0.5
    )
    welch = stats.ttest_ind(window, baseline, equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert drift.dropped
    assert drift.mean == pytest.approx(np.mean(window))
    assert drift.reference_mean == pytest.approx(np.mean(baseline))
    assert (drift.difference.low, drift.difference.high) == pytest.approx(tuple(interval))
    assert drift.difference.p_value == pytest.approx(welch.pvalue, rel=1e-6, abs=1e-300)
    bad = sum(score <= 2 for score in window)
    assert drift.bad_share.rate == bad / len(window)
    assert drift.bad_share.interval == pytest.approx(
        proportion_confint(bad, len(window), method="wilson"), abs=1e-12
    )
    assert drift.p10 <= drift.reference_p10
    assert drift.reason.startswith(
        f"mean fell from {np.mean(baseline):.2f} to {np.mean(window):.2f} (−"
    )
    assert "n=100 vs 100" in drift.reason


def test_two_equally_good_summarizers_do_not_alert() -> None:
    drift = quality_drift(
        ScoreSummary.of_values(expert_coherence("M23")),
        ScoreSummary.of_values(expert_coherence("M22")),
        max_drop=0.3,
    )
    assert not drift.dropped


def test_a_drop_smaller_than_allowed_does_not_alert_even_when_significant() -> None:
    current = ScoreSummary.of_values(normal_scores(3.8, 5000, seed=2))
    reference = ScoreSummary.of_values(normal_scores(4.0, 20000, seed=3))
    drift = quality_drift(current, reference, max_drop=0.5)
    assert drift.difference.high < 0
    assert not drift.dropped
    assert "within the allowed drop of 0.50" in drift.reason


def test_a_large_drop_without_enough_evidence_does_not_alert() -> None:
    current = ScoreSummary.of_values([5.0, 1.0] * 20 + [1.0])
    reference = ScoreSummary.of_values(normal_scores(3.5, 500, seed=4))
    drift = quality_drift(current, reference, max_drop=0.2)
    assert drift.reference_mean - drift.mean > 0.2
    assert drift.difference.high >= 0
    assert not drift.dropped
    assert "the interval does not exclude no change" in drift.reason


def test_too_few_scores_in_the_window_or_the_baseline_do_not_alert() -> None:
    reference = ScoreSummary.of_values(normal_scores(4.3, 5210, seed=5))
    few = ScoreSummary.of_values([1.0] * 12)
    drift = quality_drift(few, reference, max_drop=0.5)
    assert not drift.dropped
    assert drift.reason == "only 12 scores in the window, need 30"
    backwards = quality_drift(reference, few, max_drop=0.5, min_samples=100)
    assert backwards.reason == "only 12 scores in the baseline, need 100"


def test_a_relative_threshold_is_a_fraction_of_the_baseline_mean() -> None:
    current = ScoreSummary.of_values(normal_scores(3.6, 2000, seed=6))
    reference = ScoreSummary.of_values(normal_scores(4.0, 2000, seed=7))
    drop = reference.moments.mean - current.moments.mean
    relative = drop / reference.moments.mean
    assert quality_drift(current, reference, max_drop=relative * 0.9, relative=True).dropped
    above = quality_drift(current, reference, max_drop=relative * 1.1, relative=True)
    assert not above.dropped
    assert "% of the baseline" in above.reason


def test_a_rise_is_never_a_drop() -> None:
    current = ScoreSummary.of_values(normal_scores(4.5, 500, seed=8))
    reference = ScoreSummary.of_values(normal_scores(3.0, 500, seed=9))
    drift = quality_drift(current, reference, max_drop=0.0)
    assert not drift.dropped
    assert drift.reason.startswith("mean rose")


def test_window_summaries_of_minutes_reach_the_same_decision_as_the_raw_window() -> None:
    values = normal_scores(3.2, 600, seed=10)
    minutes = [ScoreSummary.of_values(chunk) for chunk in np.array_split(values, 60)]
    window = sum(minutes, ScoreSummary())
    reference = ScoreSummary.of_values(normal_scores(4.0, 3000, seed=11))
    from_minutes = quality_drift(window, reference, max_drop=0.5)
    from_raw = quality_drift(ScoreSummary.of_values(values), reference, max_drop=0.5)
    assert from_minutes.dropped and from_raw.dropped
    assert from_minutes.difference.high == pytest.approx(from_raw.difference.high)
    assert from_minutes.reason == from_raw.reason


def test_a_negative_max_drop_is_refused() -> None:
    with pytest.raises(ValueError):
        quality_drift(ScoreSummary(), ScoreSummary(), max_drop=-0.1)
