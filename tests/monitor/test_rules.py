"""Rules over rollup rows: which slices breach, what a thin or new slice is compared with,
and what each detector says it can detect."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from liveeval.config.monitor import DEFAULT_RULES, DriftConfig, RuleConfig
from liveeval.model.rollup import Aggregate
from liveeval.model.slices import SliceValues
from liveeval.monitor.rules import evaluate_rule
from liveeval.stats.quality import ScoreSummary

OLD, NEW = "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


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
    found = by_slice(evaluate_rule(rule(), window, baseline, DriftConfig(), now=NOW))
    moved, healthy = found[(("model_served", NEW),)], found[(("model_served", OLD),)]
    assert moved.breached and moved.evidence is not None and moved.evidence > 1
    assert not healthy.breached and healthy.evidence is not None and healthy.evidence < 0.5
    assert "regenerated_rate rose from 2.0% to 20.0%" in moved.summary
    assert "a false alarm expected once in" in moved.summary


def test_a_slice_too_thin_to_detect_its_minimum_effect_says_so() -> None:
    baseline, window = [row(OLD, 40, 1)], [row(OLD, 40, 4)]  # 2.5% → 10% on 40 a week
    (only,) = evaluate_rule(rule(slice_by=["all"]), window, baseline, DriftConfig(), now=NOW)
    m = only.measurement
    assert not m.breached
    assert m.detectability is not None and m.detectability.delay is None
    assert not m.detectability.detects
    assert "too little traffic to detect the minimum effect itself, only larger ones" in (m.summary)
    (none,) = evaluate_rule(rule(slice_by=["all"]), [row(OLD, 2, 0)], [row(OLD, 2, 0)],
                            DriftConfig(), now=NOW)  # fmt: skip
    assert not none.measurement.sufficient and not none.measurement.breached
    assert "too little traffic to detect even 8 times the minimum effect" in (
        none.measurement.summary
    )


def test_a_busy_slice_reports_when_it_would_detect_its_minimum_effect() -> None:
    baseline, window = [row(OLD, 20_000, 400)], [row(OLD, 3000, 60)]
    daily = rule(slice_by=["all"], window="1d")
    (only,) = evaluate_rule(daily, window, baseline, DriftConfig(), now=NOW)
    d = only.measurement.detectability
    assert d is not None and d.detects and d.delay is not None
    assert d.smallest is not None and d.smallest < 0.05  # smaller than the minimum effect
    # h / drift observations at 20,000 a week: a 5-point rise on 2% takes hours, not days
    assert timedelta(minutes=10) < d.delay < timedelta(days=1)
    (hourly,) = evaluate_rule(rule(slice_by=["all"]), window, baseline, DriftConfig(), now=NOW)
    short = hourly.measurement.detectability
    assert short is not None and not short.detects  # hours of evidence do not fit in 1 h
    assert short.smallest is not None and short.smallest > 0.05


def test_a_new_slice_borrows_the_projects_baseline() -> None:
    baseline = [row(OLD, 2000, 40)]
    window = [row(OLD, 300, 6), row(NEW, 300, 90)]
    found = by_slice(evaluate_rule(rule(), window, baseline, DriftConfig(), now=NOW))
    new = found[(("model_served", NEW),)]
    assert new.breached and new.baseline_n == 0
    assert abs(new.baseline - 0.02) < 0.005  # the project's rate, not nothing


def test_a_dimension_with_one_value_is_not_repeated_beside_all() -> None:
    baseline, window = [row(OLD, 2000, 40)], [row(OLD, 400, 80)]
    found = evaluate_rule(rule(), window, baseline, DriftConfig(), now=NOW)
    assert [e.slice for e in found] == [{}]


def test_judge_rules_run_per_score_and_a_lasting_drop_breaches() -> None:
    good, bad = [5.0, 4.0] * 400, [2.0, 3.0] * 60
    baseline, window = [row(OLD, 2000, 0, good)], [row(OLD, 200, 0, bad)]
    mean_rule = rule("judge_mean", slice_by=["all"], threshold=0.3)
    (found,) = evaluate_rule(mean_rule, window, baseline, DriftConfig(), now=NOW)
    assert found.slice == {"score": "helpfulness"} and found.measurement.breached
    assert "judge mean (helpfulness) fell from 4.50 to 2.50" in found.measurement.summary
    same = [row(OLD, 200, 0, good[:120])]
    (quiet,) = evaluate_rule(mean_rule, same, baseline, DriftConfig(), now=NOW)
    assert not quiet.measurement.breached


def test_language_drift_names_what_appeared_before_what_shifted() -> None:
    baseline = [row(OLD, 6000, 0, language="en"), row(OLD, 3000, 0, language="de")]
    window = [row(OLD, 560, 0, language="en"), row(OLD, 380, 0, language="de"),
              row(OLD, 60, 0, language="ta")]  # fmt: skip
    drift = RuleConfig(name="lang", metric="language_drift", slice_by=["all"])
    (found,) = evaluate_rule(drift, window, baseline, DriftConfig(), now=NOW)
    summary = found.measurement.summary
    assert found.measurement.breached
    assert summary.startswith("language drifted: Tamil appeared: 6% of inputs"), summary


def test_the_judge_error_rate_is_a_rate_of_errors_among_judged_interactions() -> None:
    def judged(errors: int, scores: int) -> tuple[SliceValues, Aggregate]:
        values, agg = row(OLD, 1000, 0, [4.0] * scores)
        agg.judge_errors = errors
        return values, agg

    (found,) = evaluate_rule(
        rule("judge_error_rate", slice_by=["all"], threshold=0.05),
        [judged(400, 600)],
        [judged(20, 980)],
        DriftConfig(),
        now=NOW,
    )
    assert found.slice == {}  # not split per score name
    assert found.measurement.value == 0.4 and abs(found.measurement.baseline - 0.02) < 0.001
    assert found.measurement.breached


def test_threshold_rules_keep_the_move_beyond_the_threshold() -> None:
    p10 = rule("judge_p10", slice_by=["all"], threshold=1.0)
    baseline = [row(OLD, 400, 0, [4.0, 5.0] * 100)]
    (found,) = evaluate_rule(p10, [row(OLD, 100, 0, [1.0, 5.0] * 50)], baseline, DriftConfig())
    assert found.measurement.breached and found.measurement.evidence is None


def default_rule(name: str) -> RuleConfig:
    return next(r for r in DEFAULT_RULES if r.name == name)


def counted(n: int, **counts: int) -> tuple[SliceValues, Aggregate]:
    return ("gpt-4o-2024-08-06", OLD, "v1", "support", None, "en"), Aggregate(
        interactions=n, **counts
    )


def test_the_default_model_mismatch_rule_says_how_many_answers_came_from_a_model_not_pinned() -> (
    None
):
    baseline, window = [counted(20_000)], [counted(2_372, model_mismatch=1_208)]
    found = evaluate_rule(default_rule("model-mismatch"), window, baseline, DriftConfig(), now=NOW)
    m = by_slice(found)[()]
    assert m.breached
    assert m.summary.startswith("1,208 of 2,372 answers came from a model you did not pin; ")
    assert "model_mismatch_rate rose from 0.0% to 50.9%" in m.summary


def test_the_default_error_rate_rule_fires_when_errors_rise_and_not_when_they_hold() -> None:
    rule_ = default_rule("error-rate-rise")
    baseline = [counted(20_000, errors=200)]
    rising = evaluate_rule(rule_, [counted(2_000, errors=160)], baseline, DriftConfig(), now=NOW)
    steady = evaluate_rule(rule_, [counted(2_000, errors=21)], baseline, DriftConfig(), now=NOW)
    assert by_slice(rising)[()].breached
    assert "error_rate rose from 1.0% to 8.0%" in by_slice(rising)[()].summary
    assert not by_slice(steady)[()].breached
