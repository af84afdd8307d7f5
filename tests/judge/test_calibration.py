"""The agreement report: each figure against the reference libraries, the verdict, renderings."""

from __future__ import annotations

import json
import math

import krippendorff
import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from liveeval.judge.calibration import (
    AgreementReport,
    JudgeError,
    agreement_report,
    human_reference,
    passes,
    render_text,
    report_to_dict,
)

LIKERT = (1, 2, 3, 4, 5)


def panel(seed: int, n: int = 150) -> tuple[list[float], list[list[float]], list[int]]:
    """A judge and 2-4 people per item on 1-5, all noisy views of one true quality."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=n)
    humans = [
        np.clip(t + rng.integers(-1, 2, size=rng.integers(2, 5)), 1, 5).astype(float).tolist()
        for t in truth
    ]
    judge = np.clip(truth + rng.choice([-1, 0, 0, 1, 1], size=n), 1, 5).astype(float).tolist()
    lengths = rng.integers(50, 2_000, size=n).tolist()
    return judge, humans, lengths


def reference_rounding(values: list[float]) -> list[int]:
    """Nearest level, halfway up, written independently of the code under test."""
    return [math.floor(v + 0.5) for v in values]


@pytest.mark.parametrize("seed", range(3))
def test_every_statistic_matches_its_reference(seed: int) -> None:
    judge, humans, lengths = panel(seed)
    report = agreement_report(judge, humans, LIKERT, lengths)
    medians = [float(np.median(h)) for h in humans]
    judged, human = reference_rounding(judge), reference_rounding(medians)
    assert report.n == len(judge)
    assert report.judge_mean == pytest.approx(np.mean(judge))
    assert report.human_mean == pytest.approx(np.mean(medians))
    assert report.exact.value == pytest.approx(np.mean(np.equal(judged, human)))
    assert report.within_one.value == pytest.approx(
        np.mean(np.abs(np.subtract(judged, human)) <= 1)
    )
    for weights, estimate in (
        ("quadratic", report.kappa_quadratic),
        ("linear", report.kappa_linear),
    ):
        expected = cohen_kappa_score(judged, human, labels=list(LIKERT), weights=weights)
        assert estimate.value == pytest.approx(expected, abs=1e-12)
    rho = spearmanr(judge, medians)
    assert (report.spearman.rho, report.spearman.p_value) == pytest.approx(
        (rho.statistic, rho.pvalue)
    )
    width = max(len(h) for h in humans)
    matrix = np.full((width + 1, len(judge)), np.nan)
    for item, (j, h) in enumerate(zip(judge, humans, strict=True)):
        matrix[0, item] = j
        matrix[1 : 1 + len(h), item] = h
    assert report.alpha.value == pytest.approx(
        krippendorff.alpha(matrix, level_of_measurement="ordinal"), abs=1e-10
    )
    assert report.alpha_humans.value == pytest.approx(
        krippendorff.alpha(matrix[1:], level_of_measurement="ordinal"), abs=1e-10
    )
    np.testing.assert_array_equal(
        np.array(report.confusion), confusion_matrix(judged, human, labels=list(LIKERT))
    )
    assert report.length_bias.judge.rho == pytest.approx(spearmanr(judge, lengths).statistic)
    assert report.length_bias.human.rho == pytest.approx(spearmanr(medians, lengths).statistic)


def test_the_human_reference_is_the_median_and_halfway_rounds_up() -> None:
    assert human_reference([[1, 5, 4], [3, 4], [2]]) == [4.0, 3.5, 2.0]
    report = agreement_report([4, 4, 2], [[1, 5, 4], [3, 4], [2]], LIKERT, [1, 2, 3])
    # the 3.5 median counts as a 4: the judge's 4 agrees exactly
    assert report.exact.value == 1.0
    assert report.confusion[3][3] == 2 and report.confusion[1][1] == 1


def test_a_judge_close_to_people_passes_the_floor_and_a_random_one_does_not() -> None:
    judge, humans, lengths = panel(4, n=300)
    good = agreement_report(judge, humans, LIKERT, lengths)
    assert good.kappa_quadratic.value > 0.6 and good.passed and passes(good)
    rng = np.random.default_rng(5)
    noise = rng.integers(1, 6, size=len(judge)).astype(float).tolist()
    bad = agreement_report(noise, humans, LIKERT, lengths)
    assert abs(bad.kappa_quadratic.value) < 0.2 and not bad.passed
    assert bad.alpha_humans.value > bad.alpha.value  # people agree with each other more


def test_passes_takes_another_floor_and_the_report_keeps_its_own() -> None:
    judge, humans, lengths = panel(6)
    report = agreement_report(judge, humans, LIKERT, lengths, floor=0.99)
    kappa = report.kappa_quadratic.value
    assert not report.passed
    assert passes(report, floor=kappa) and not passes(report, floor=kappa + 1e-9)


def test_an_undefined_kappa_never_passes() -> None:
    report = agreement_report([3, 3, 3], [[3], [3], [3]], LIKERT, [10, 20, 30], floor=-1.0)
    assert math.isnan(report.kappa_quadratic.value)
    assert not report.passed and not passes(report, floor=-1.0)


def test_an_empty_report_is_all_undefined_and_fails_without_crashing() -> None:
    report = agreement_report([], [], LIKERT, [])
    assert report.n == 0 and not report.passed
    assert math.isnan(report.judge_mean) and math.isnan(report.spearman.rho)
    assert report.exact.reason == "no items" and report.alpha.reason
    document = report_to_dict(report)
    json.dumps(document, allow_nan=False)
    assert document["kappa_quadratic"] == {"value": None, "reason": "no items"}
    assert "FAIL" in render_text(report)


def test_one_human_rating_per_item_leaves_the_human_ceiling_undefined() -> None:
    report = agreement_report([1, 2, 3, 4], [[1], [2], [4], [4]], LIKERT, [1, 2, 3, 4])
    assert report.alpha.defined
    assert not report.alpha_humans.defined
    assert report.alpha_humans.reason == "no item has two or more ratings"
    assert "alpha among humans undefined: no item has two or more ratings" in render_text(report)


def test_a_judge_that_follows_length_is_flagged() -> None:
    lengths = list(range(100, 4_100, 100))
    judge = [1 + i * 4 // len(lengths) for i in range(len(lengths))]  # longer, better
    humans = [[float(3 + (i % 3) - 1), 3.0] for i in range(len(lengths))]  # unrelated
    report = agreement_report(judge, humans, LIKERT, lengths)
    assert report.length_bias.judge.rho > 0.9
    assert report.prefers_length
    assert "the judge prefers length more than people" in render_text(report)
    assert report_to_dict(report)["length_bias"]["judge_prefers_length"] is True


def test_binary_scale() -> None:
    judge = [0, 1, 1, 0, 1, 1, 0, 0]
    humans = [[0, 0], [1, 1], [1, 0], [0, 0], [1, 1], [0, 0], [0, 1], [0, 0]]
    report = agreement_report(judge, humans, (0, 1), [5] * 8)
    medians = reference_rounding([float(np.median(h)) for h in humans])
    assert medians == [0, 1, 1, 0, 1, 0, 1, 0]  # a 0.5 median counts as 1
    expected = cohen_kappa_score(judge, medians, labels=[0, 1], weights="quadratic")
    assert report.kappa_quadratic.value == pytest.approx(expected)
    assert report.within_one.value == 1.0


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="one of each per item"):
        agreement_report([1, 2], [[1]], LIKERT, [1, 2])
    with pytest.raises(ValueError, match="item 1 has no human score"):
        agreement_report([1, 2], [[1], []], LIKERT, [1, 2])


def test_the_json_has_stable_keys_and_no_nan() -> None:
    judge, humans, lengths = panel(7, n=40)
    errors = [JudgeError("x1", "timed out after 60s")]
    report = agreement_report(judge, humans, LIKERT, lengths, judge_errors=errors)
    document = report_to_dict(report)
    assert list(document) == [
        "n",
        "levels",
        "judge_mean",
        "human_mean",
        "exact_agreement",
        "within_one_agreement",
        "kappa_quadratic",
        "kappa_linear",
        "spearman",
        "krippendorff_alpha_ordinal",
        "krippendorff_alpha_ordinal_humans",
        "confusion",
        "length_bias",
        "floor",
        "passed",
        "judge_errors",
    ]
    assert document["spearman"].keys() == {"rho", "p_value", "n", "reason"}
    assert document["confusion"]["counts"] == [list(r) for r in report.confusion]
    assert document["judge_errors"] == {
        "count": 1,
        "items": [{"id": "x1", "reason": "timed out after 60s"}],
    }
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_the_text_is_a_table_with_the_confusion_matrix_and_the_verdict() -> None:
    judge, humans, lengths = panel(8, n=60)
    report: AgreementReport = agreement_report(
        judge, humans, LIKERT, lengths, judge_errors=[JudgeError("x1", "refused")]
    )
    text = render_text(report)
    assert text.startswith("60 items scored, 1 judge error; mean judge")
    assert f"kappa, quadratic      {report.kappa_quadratic.value:.3f}  floor 0.6" in text
    assert "judge \\ human    1    2    3    4    5" in text
    row = "            5  " + "  ".join(f"{c:>3}" for c in report.confusion[4])
    assert row in text
    assert "judge error on x1: refused" in text
    assert text.splitlines()[-1].startswith("PASS: quadratic kappa" if report.passed else "FAIL")
