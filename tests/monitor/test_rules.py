"""Rules over rollup rows: which slices breach, and what a new slice is compared with."""

from __future__ import annotations

from collections import Counter

from liveeval.config.monitor import DriftConfig, RuleConfig
from liveeval.monitor.rollup import Aggregate, SliceValues
from liveeval.monitor.rules import evaluate_rule
from liveeval.stats.quality import ScoreSummary

OLD, NEW = "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"


def row(model: str, n: int, regenerated: int, scores: list[float] = (), language: str = "en"
        ) -> tuple[SliceValues, Aggregate]:  # fmt: skip
    summary = {"helpfulness": ScoreSummary.of_values(scores)} if scores else {}
    agg = Aggregate(interactions=n, signals=Counter(regenerated=regenerated), scores=summary)
    return ("gpt-4o", model, "v1", "support", None, language), agg


def rule(metric: str = "regenerated_rate", **extra: object) -> RuleConfig:
    values = {"name": "r", "metric": metric, "threshold": 0.05, **extra}
    return RuleConfig.model_validate({"slice_by": ["all", "model_served"], **values})


def by_slice(evaluations: list) -> dict:
    return {tuple(e.slice.items()): e.measurement for e in evaluations}


def test_the_slice_that_moved_breaches_and_the_healthy_one_does_not() -> None:
    baseline = [row(OLD, 2000, 40), row(NEW, 2000, 40)]
    window = [row(OLD, 400, 8), row(NEW, 400, 80)]
    found = by_slice(evaluate_rule(rule(), window, baseline, DriftConfig()))
    assert found[(("model_served", NEW),)].breached
    assert not found[(("model_served", OLD),)].breached
    assert "rose from 2.0% to 20.0%" in found[(("model_served", NEW),)].summary


def test_a_move_beyond_the_threshold_without_significance_does_not_breach() -> None:
    baseline, window = [row(OLD, 40, 1)], [row(OLD, 40, 4)]  # 2.5% → 10%, n=40: p ≈ 0.08
    (only,) = evaluate_rule(rule(slice_by=["all"]), window, baseline, DriftConfig())
    assert only.measurement.sufficient and not only.measurement.breached


def test_a_new_slice_is_compared_with_the_whole_baseline_and_says_so() -> None:
    baseline, window = [row(OLD, 2000, 40)], [row(OLD, 300, 6), row(NEW, 300, 90)]
    found = by_slice(evaluate_rule(rule(), window, baseline, DriftConfig()))
    new = found[(("model_served", NEW),)]
    assert new.breached and new.baseline_n == 2000
    assert "against the whole project's baseline (the slice is new)" in new.summary


def test_a_dimension_with_one_value_is_not_repeated_beside_all() -> None:
    baseline, window = [row(OLD, 2000, 40)], [row(OLD, 400, 80)]
    found = evaluate_rule(rule(), window, baseline, DriftConfig())
    assert [e.slice for e in found] == [{}]


def test_judge_rules_run_per_score_and_need_the_interval_to_exclude_no_change() -> None:
    good, bad = [5.0, 4.0] * 100, [2.0, 3.0] * 30
    baseline, window = [row(OLD, 400, 0, good)], [row(OLD, 100, 0, bad)]
    (found,) = evaluate_rule(
        rule("judge_mean", slice_by=["all"], threshold=0.3), window, baseline, DriftConfig()
    )
    assert found.slice == {"score": "helpfulness"} and found.measurement.breached
    (same,) = evaluate_rule(
        rule("judge_mean", slice_by=["all"], threshold=0.3),
        [row(OLD, 100, 0, good[:60])],
        baseline,
        DriftConfig(),
    )
    assert not same.measurement.breached


def test_language_drift_is_evaluated_inside_each_slice() -> None:
    baseline = [row(OLD, 3000, 0, language="en"), row(OLD, 150, 0, language="de")]
    window = [row(OLD, 600, 0, language="en"), row(OLD, 400, 0, language="de")]
    (found,) = evaluate_rule(
        RuleConfig(name="lang", metric="language_drift", slice_by=["all"]),
        window,
        baseline,
        DriftConfig(),
    )
    assert found.measurement.breached and "German rose" in found.measurement.summary


def test_the_judge_error_rate_is_a_rate_of_errors_among_judged_interactions() -> None:
    def judged(errors: int, scores: int) -> tuple[SliceValues, Aggregate]:
        values, agg = row(OLD, 1000, 0, [4.0] * scores)
        agg.judge_errors = errors
        return values, agg

    (found,) = evaluate_rule(
        rule("judge_error_rate", slice_by=["all"], threshold=0.05),
        [judged(40, 60)],
        [judged(2, 98)],
        DriftConfig(),
    )
    assert found.slice == {}  # not split per score name
    assert found.measurement.value == 0.4 and found.measurement.baseline == 0.02
    assert found.measurement.breached
