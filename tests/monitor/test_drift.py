import json

import numpy as np
import pytest

from liveeval.monitor.drift import (
    DriftReport,
    DriftThresholds,
    FeatureFrame,
    drift_report,
)
from liveeval.monitor.drift_text import format_number, format_share
from liveeval.stats.categorical_drift import category_counts

RNG_SEED = 20


def _languages(rng: np.random.Generator, n: int, german: float) -> np.ndarray:
    others = ["en", "fr", "es", "it"]
    shares = [german] + [(1 - german) / len(others)] * len(others)
    return rng.choice(np.array(["de", *others], dtype=object), size=n, p=shares)


def _frame(rng: np.random.Generator, n: int, german: float = 0.04, scale: float = 1.0):
    return FeatureFrame(
        numeric={"input_chars": np.round(rng.lognormal(np.log(120 * scale), 0.5, n))},
        categorical={"language": _languages(rng, n, german)},
    )


def test_identical_windows_do_not_drift():
    rng = np.random.default_rng(RNG_SEED)
    report = drift_report(_frame(rng, 2000), _frame(rng, 2000))
    assert report.drifted == []
    assert [f.status for f in report.features] == ["ok", "ok"]
    assert report.summary == "No input drift in 2 features."


def test_small_samples_are_judged_by_p_values():
    rng = np.random.default_rng(RNG_SEED)
    report = drift_report(_frame(rng, 3000), _frame(rng, 3000, german=0.19, scale=2.8))
    chars, language = report.feature("input_chars"), report.feature("language")
    assert (chars.method, chars.status, chars.threshold) == ("ks", "drift", 0.05)
    assert chars.value == chars.statistics["ks_p_value"] < 0.05
    assert (language.method, language.status) == ("chi2", "drift")
    assert report.drifted == ["input_chars", "language"]


def test_numeric_moved_names_the_median_with_its_values():
    rng = np.random.default_rng(RNG_SEED)
    reference, current = _frame(rng, 3000), _frame(rng, 3000, scale=2.8)
    chars = drift_report(reference, current).feature("input_chars")
    before = np.median(reference.numeric["input_chars"])
    after = np.median(current.numeric["input_chars"])
    expected = f"median input_chars rose from {format_number(before)} to {format_number(after)}"
    assert expected in chars.moved


def test_language_moved_says_german_rose_in_plain_words():
    rng = np.random.default_rng(RNG_SEED)
    reference, current = _frame(rng, 3000, german=0.04), _frame(rng, 3000, german=0.19)
    report = drift_report(reference, current)
    language = report.feature("language")
    before = np.mean(reference.categorical["language"] == "de")
    after = np.mean(current.categorical["language"] == "de")
    expected = f"German rose from {format_share(before)} to {format_share(after)} of inputs"
    assert language.moved[0] == expected
    assert f"language drifted: {expected}" in report.summary


def test_labels_name_values_and_a_new_topic():
    rng = np.random.default_rng(RNG_SEED)
    topics = np.array(["1", "2", "3"], dtype=object)
    reference = FeatureFrame(categorical={"topic": rng.choice(topics, 2000)})
    current = FeatureFrame(
        categorical={"topic": np.concatenate([rng.choice(topics, 1760), ["7"] * 240])}
    )
    labels = {"topic": {"7": "topic cluster 7 (card payments)"}}
    report = drift_report(reference, current, labels=labels)
    assert (
        report.feature("topic").moved[0] == "topic cluster 7 (card payments) is new (12% of inputs)"
    )
    assert report.summary.startswith("topic drifted: topic cluster 7 (card payments) is new")


def test_large_samples_are_judged_by_distances():
    rng = np.random.default_rng(RNG_SEED)
    thresholds = DriftThresholds(large_sample=2000)
    reference = FeatureFrame(numeric={"latency_ms": rng.normal(800, 100, 20_000)})
    slightly = FeatureFrame(numeric={"latency_ms": rng.normal(805, 100, 20_000)})
    clearly = FeatureFrame(numeric={"latency_ms": rng.normal(850, 100, 20_000)})
    small_shift = drift_report(reference, slightly, thresholds).features[0]
    assert small_shift.statistics["ks_p_value"] < 0.05  # significant, yet small
    assert (small_shift.method, small_shift.status) == ("wasserstein", "ok")
    large_shift = drift_report(reference, clearly, thresholds).features[0]
    assert (large_shift.method, large_shift.status) == ("wasserstein", "drift")
    assert large_shift.value == pytest.approx(large_shift.statistics["wasserstein_norm"])
    assert large_shift.value >= 0.1


def test_a_large_sample_psi_between_the_thresholds_warns():
    reference = {"a": 5000, "b": 5000}
    current = {"a": 5000, "b": 5000, "c": 500}  # JS about 0.13: raise its threshold
    thresholds = DriftThresholds(large_sample=1000, js=0.5, psi_warn=0.1, psi_alert=0.5)
    verdict = drift_report(
        FeatureFrame(categorical={"x": reference}),
        FeatureFrame(categorical={"x": current}),
        thresholds,
    ).features[0]
    assert verdict.statistics["psi"] == pytest.approx(
        sum(
            (c - r) * np.log(c / r)
            for r, c in [(0.5, 5000 / 10500), (0.5, 5000 / 10500), (1e-4, 500 / 10500)]
        )
    )
    assert (verdict.method, verdict.status, verdict.threshold) == ("psi", "warn", 0.1)


def test_a_material_new_category_warns_even_when_distances_stay_low():
    reference = {"en": 60_000, "de": 40_000}
    current = {"en": 59_000, "de": 39_500, "sv": 1_500}
    report = drift_report(
        FeatureFrame(categorical={"language": reference}),
        FeatureFrame(categorical={"language": current}),
        DriftThresholds(large_sample=50_000),
    )
    verdict = report.features[0]
    assert verdict.statistics["js_distance"] < 0.1 and verdict.statistics["psi"] < 0.1
    assert (verdict.method, verdict.status) == ("new_category", "warn")
    assert verdict.moved[0] == "Swedish is new (1.5% of inputs)"
    assert report.drifted == [] and report.warned == ["language"]
    assert report.summary == (
        "No feature drifted. Watch: language may be drifting: Swedish is new (1.5% of inputs)."
    )


def test_a_new_category_seen_a_few_times_in_a_small_window_is_no_news():
    reference = {"en": 60, "de": 40}
    current = {"en": 58, "de": 40, "sv": 2}
    verdict = drift_report(
        FeatureFrame(categorical={"language": reference}),
        FeatureFrame(categorical={"language": current}),
    ).features[0]
    assert verdict.status == "ok"


def test_too_few_rows_are_not_tested():
    rng = np.random.default_rng(RNG_SEED)
    verdict = drift_report(_frame(rng, 500), _frame(rng, 20, german=0.9)).feature("language")
    assert (verdict.method, verdict.status, verdict.value, verdict.threshold) == (
        "min_samples",
        "ok",
        20.0,
        30.0,
    )


def test_pre_counted_categories_give_the_same_verdict_as_raw_values():
    rng = np.random.default_rng(RNG_SEED)
    reference, current = _languages(rng, 3000, 0.04), _languages(rng, 3000, 0.09)
    raw = drift_report(
        FeatureFrame(categorical={"language": reference}),
        FeatureFrame(categorical={"language": current}),
    ).features[0]
    counted = drift_report(
        FeatureFrame(categorical={"language": category_counts(reference)}),
        FeatureFrame(categorical={"language": category_counts(current)}),
    ).features[0]
    assert counted == raw


def test_every_threshold_is_configurable():
    rng = np.random.default_rng(RNG_SEED)
    reference, current = _frame(rng, 3000), _frame(rng, 3000, german=0.09, scale=1.1)
    assert drift_report(reference, current).drifted == ["input_chars", "language"]
    strict = DriftThresholds(p_value=1e-30)
    assert drift_report(reference, current, strict).drifted == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"p_value": 0.0},
        {"psi_warn": 0.3, "psi_alert": 0.2},
        {"domain_auc": 0.4},
        {"min_samples": 0},
    ],
)
def test_thresholds_refuse_nonsense(overrides):
    with pytest.raises(ValueError):
        DriftThresholds(**overrides)


def test_embedding_drift_needs_the_classifier_and_mmd_to_agree():
    rng = np.random.default_rng(RNG_SEED)
    reference = rng.normal(0, 1, (400, 16)).astype(np.float32)
    same = rng.normal(0, 1, (400, 16)).astype(np.float32)
    moved = rng.normal(0, 1, (400, 16)).astype(np.float32)
    moved[:, :4] += 0.5
    thresholds = DriftThresholds(mmd_permutations=99)
    quiet = drift_report(
        FeatureFrame(embeddings={"input_embedding": reference}),
        FeatureFrame(embeddings={"input_embedding": same}),
        thresholds,
    ).features[0]
    assert quiet.status == "ok" and quiet.method == "domain_classifier_auc"
    loud = drift_report(
        FeatureFrame(embeddings={"input_embedding": reference}),
        FeatureFrame(embeddings={"input_embedding": moved}),
        thresholds,
    ).features[0]
    assert loud.status == "drift"
    assert loud.statistics["domain_classifier_auc"] >= 0.55
    assert loud.statistics["mmd_p_value"] < 0.05
    assert loud.moved[0].startswith("a classifier tells current input_embedding from the reference")


def test_frames_with_different_features_are_refused():
    with pytest.raises(ValueError, match="only in current"):
        drift_report(
            FeatureFrame(numeric={"a": np.ones(50)}),
            FeatureFrame(numeric={"a": np.ones(50), "b": np.ones(50)}),
        )


def test_report_to_dict_is_json_ready():
    rng = np.random.default_rng(RNG_SEED)
    reference = _frame(rng, 3000)
    current = _frame(rng, 3000, german=0.19, scale=2.8)
    current.numeric["latency_ms"] = np.full(10, np.nan)
    reference.numeric["latency_ms"] = np.full(3000, 800.0)
    report = drift_report(reference, current)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["drifted"] == ["input_chars", "language"]
    assert data["summary"] == report.summary
    language = next(f for f in data["features"] if f["feature"] == "language")
    assert language["categorical"]["current_shares"]["de"] == pytest.approx(
        report.feature("language").categorical.current_shares["de"]
    )
    latency = next(f for f in data["features"] if f["feature"] == "latency_ms")
    assert latency["method"] == "min_samples" and latency["n_current"] == 0


def test_an_empty_report_says_so():
    report = drift_report(FeatureFrame(), FeatureFrame())
    assert report == DriftReport(features=[], drifted=[], summary="No input drift in 0 features.")


def test_shares_are_formatted_for_reading():
    assert [format_share(s) for s in (0.19, 0.04, 0.0625, 0.0035, 0.0)] == [
        "19%",
        "4%",
        "6.2%",
        "0.35%",
        "0%",
    ]
    assert [format_number(v) for v in (2400.0, 340.4, 12.53, 0.03125)] == [
        "2,400",
        "340",
        "12.5",
        "0.0312",
    ]


def test_an_empty_window_says_no_data_never_no_drift():
    rng = np.random.default_rng(RNG_SEED)
    empty = FeatureFrame(
        numeric={"input_chars": np.array([], dtype=float)},
        categorical={"language": np.array([], dtype=object)},
    )
    report = drift_report(_frame(rng, 500), empty)
    assert report.summary == "No data in the window: nothing to compare, so no verdict on drift."
    assert "No input drift" not in drift_report(_frame(rng, 500), _frame(rng, 10)).summary
    assert drift_report(_frame(rng, 500), _frame(rng, 10)).summary == (
        "Too few rows to test: 10 in the window and 500 in the baseline; each side needs 30."
    )


def test_features_without_rows_are_counted_apart_from_those_without_drift():
    rng = np.random.default_rng(RNG_SEED)
    reference, current = _frame(rng, 2000), _frame(rng, 2000)
    reference.numeric["latency_ms"] = rng.normal(800, 100, 2000)
    current.numeric["latency_ms"] = np.array([], dtype=float)
    report = drift_report(reference, current)
    assert report.summary == "No input drift in 2 features. 1 feature had too few rows to test."


def test_a_trivial_numeric_shift_is_not_drift_however_significant():
    """Output tokens with a median of 49 becoming 48 over 20,000 rows a side: the KS test
    calls it significant; a shift of a few hundredths of a standard deviation is no news."""
    rng = np.random.default_rng(RNG_SEED)
    before = np.round(rng.lognormal(np.log(49), 0.35, 20_000))
    after = np.round(rng.lognormal(np.log(48), 0.35, 20_000))
    verdict = drift_report(
        FeatureFrame(numeric={"output_tokens": before}),
        FeatureFrame(numeric={"output_tokens": after}),
    ).features[0]
    assert verdict.statistics["ks_p_value"] < 0.05
    assert verdict.statistics["wasserstein_norm"] < 0.1
    assert verdict.status == "ok"
    doubled = drift_report(
        FeatureFrame(numeric={"output_tokens": before}),
        FeatureFrame(numeric={"output_tokens": before * 1.3}),
    ).features[0]
    assert doubled.status == "drift"


def test_a_token_or_two_over_a_fixed_prompt_is_not_drift():
    """Input tokens are a fixed system prompt (270) plus the question: their spread is
    small, so one token less reads as a third of a standard deviation. No quantile moved
    by 5%, and that is what a person would call drift."""
    rng = np.random.default_rng(RNG_SEED)
    before = 270 + rng.poisson(8, 5000).astype(float)
    after = 270 + rng.poisson(7, 5000).astype(float)
    verdict = drift_report(
        FeatureFrame(numeric={"input_tokens": before}),
        FeatureFrame(numeric={"input_tokens": after}),
    ).features[0]
    assert verdict.statistics["ks_p_value"] < 0.05
    assert verdict.statistics["wasserstein_norm"] >= 0.1
    assert (verdict.status, verdict.moved) == ("ok", [])
