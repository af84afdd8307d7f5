"""compare_online on a real store (SQLite and PostgreSQL), its numbers checked against scipy
and statsmodels on the raw rows the test reads back itself.

The scene: an hour of prompt v1 and an hour of prompt v2 on the same inputs; v2's judge
scores are a level lower and it is regenerated more often. A second scene sends a third
of v2's traffic in German, which must be named as a confounder.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from liveeval.gate.online_ab import OnlineComparison, compare_online, mix_sentence
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from liveeval.store.schema import interactions, scores, signals
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import T0

START = T0 - timedelta(hours=1)
V1 = Traffic(prompt_version="v1", regenerated=0.03)
V2 = Traffic(
    prompt_version="v2",
    regenerated=0.15,
    score=lambda rng: rng.choice((3, 4, 4, 3, 2)),
    latency_ms=lambda rng: rng.lognormvariate(7.0, 0.3),
)


def judge_scores(store: Store, version: str) -> list[float]:
    with store.reading() as conn:
        query = (
            sa.select(scores.c.value)
            .select_from(scores.join(interactions))
            .where(
                interactions.c.prompt_version == version,
                interactions.c.start_at < T0,
                scores.c.kind == "judge",
            )
        )
        return [float(v) for v in conn.execute(query).scalars()]


def regenerated(store: Store, version: str) -> int:
    with store.reading() as conn:
        query = (
            sa.select(sa.func.count(sa.distinct(signals.c.interaction_id)))
            .select_from(signals.join(interactions))
            .where(
                interactions.c.prompt_version == version,
                interactions.c.start_at < T0,
                signals.c.kind == "regenerated",
            )
        )
        return int(conn.execute(query).scalar_one())


def latencies(store: Store, version: str) -> np.ndarray:
    with store.reading() as conn:
        query = sa.select(interactions.c.latency_ms).where(
            interactions.c.prompt_version == version, interactions.c.start_at < T0
        )
        return np.array(list(conn.execute(query).scalars()))


def compare(store: Store, **kwargs: object) -> OnlineComparison:
    with store.writing() as conn:
        refresh_rollups(conn)
    with store.reading() as conn:
        return compare_online(conn, "shop", "prompt_version", "v1", "v2", START, T0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def scene(store: Store) -> Store:
    store_traffic(store, V1, START, 60, 5, seed=1)
    store_traffic(store, V2, START, 60, 5, seed=2)
    store_traffic(store, V2, T0, 10, 5, seed=3)  # after the period: not counted
    with store.writing() as conn:  # two of v2's answers failed
        ids = conn.execute(
            sa.select(interactions.c.interaction_id)
            .where(interactions.c.prompt_version == "v2", interactions.c.start_at < T0)
            .limit(2)
        ).scalars()
        conn.execute(
            interactions.update()
            .where(interactions.c.interaction_id.in_(list(ids)))
            .values(status="error")
        )
    return store


def test_judged_scores_match_welch_and_mann_whitney_from_scipy(scene: Store) -> None:
    result = compare(scene)
    a, b = judge_scores(scene, "v1"), judge_scores(scene, "v2")
    [helpfulness] = result.scores
    assert (helpfulness.a.n, helpfulness.b.n) == (len(a), len(b))
    assert helpfulness.a.mean == pytest.approx(np.mean(a))
    assert helpfulness.b.mean == pytest.approx(np.mean(b))
    welch = stats.ttest_ind(b, a, equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert helpfulness.difference.difference == pytest.approx(np.mean(b) - np.mean(a))
    assert helpfulness.difference.p_value == pytest.approx(welch.pvalue, rel=1e-6, abs=1e-300)
    assert helpfulness.difference.low == pytest.approx(interval.low)
    assert helpfulness.difference.high == pytest.approx(interval.high)
    mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    assert helpfulness.mann_whitney_u == pytest.approx(mw.statistic)
    assert helpfulness.mann_whitney_p == pytest.approx(mw.pvalue, rel=1e-6, abs=1e-300)
    assert helpfulness.verdict == "A better"
    assert helpfulness.a.interval[0] < np.mean(a) < helpfulness.a.interval[1]


@pytest.mark.parametrize("score", [2.5, 4.25])
def test_scores_that_are_not_whole_numbers_are_read_back_for_mann_whitney(
    scene: Store, score: float
) -> None:
    """Whole-number scores come from the rollups' counts per level; one score between
    levels makes those counts rounded, so the test reads the scores themselves."""
    with scene.writing() as conn:
        some = conn.execute(
            sa.select(scores.c.score_id)
            .select_from(scores.join(interactions))
            .where(interactions.c.prompt_version == "v2", scores.c.kind == "judge")
            .limit(7)
        ).scalars()
        conn.execute(scores.update().where(scores.c.score_id.in_(list(some))).values(value=score))
    result = compare(scene)
    a, b = judge_scores(scene, "v1"), judge_scores(scene, "v2")
    assert score in b
    [helpfulness] = result.scores
    mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    assert helpfulness.mann_whitney_u == pytest.approx(mw.statistic)
    assert helpfulness.mann_whitney_p == pytest.approx(mw.pvalue, rel=1e-6, abs=1e-300)


def test_traffic_rates_latency_and_cost_per_variant(scene: Store) -> None:
    result = compare(scene)
    assert (result.a.interactions, result.b.interactions) == (300, 300)
    assert (result.a.errors, result.b.errors) == (0, 2)
    rates = {r.name: r for r in result.rates}
    regen = rates["regenerated"]
    a_count, b_count = regenerated(scene, "v1"), regenerated(scene, "v2")
    assert (regen.a_count, regen.b_count) == (a_count, b_count)
    z, p = proportions_ztest([b_count, a_count], [300, 300])
    assert regen.z == pytest.approx(z)
    assert regen.p_value == pytest.approx(p)
    assert regen.difference == pytest.approx((b_count - a_count) / 300)
    assert regen.lower_is_better is True
    assert regen.verdict == "A better"
    errors = rates["error"]
    assert (errors.a_count, errors.b_count, errors.verdict) == (0, 2, "no significant difference")
    for summary, version in ((result.a, "v1"), (result.b, "v2")):
        observed = latencies(scene, version)
        assert summary.latency_p50_ms == pytest.approx(np.median(observed), rel=0.15)
        assert summary.latency_p95_ms == pytest.approx(np.quantile(observed, 0.95), rel=0.15)
        assert summary.mean_cost_usd == pytest.approx(0.001)
    assert result.b.latency_p50_ms > 1.5 * result.a.latency_p50_ms


def test_same_input_mix_gives_no_warning(scene: Store) -> None:
    result = compare(scene)
    assert result.warnings == []
    assert {m.dimension for m in result.mixes} == {"language", "route", "segment", "model_served"}
    assert not any(m.differs for m in result.mixes)


def test_a_different_language_mix_is_named_as_a_confounder(store: Store) -> None:
    store_traffic(store, V1, START, 60, 6, seed=1)
    store_traffic(store, V2, START, 60, 4, seed=2)
    store_traffic(store, Traffic(prompt_version="v2", language="de"), START, 60, 2, seed=3)
    result = compare(store)
    language = next(m for m in result.mixes if m.dimension == "language")
    assert language.differs
    expected = stats.chi2_contingency([[360, 0], [240, 120]], correction=False)
    assert language.chi2_p_value == pytest.approx(expected.pvalue, abs=1e-12)
    assert result.warnings[0] == (
        "B's traffic is 33% German against 0% for A: the comparison is confounded"
    )
    assert mix_sentence(language) == result.warnings[0]


def test_differently_sampled_slices_and_thin_judging_are_warned_about(store: Store) -> None:
    store_traffic(store, Traffic(prompt_version="v1", judged=0.8), START, 60, 5, seed=1)
    store_traffic(store, Traffic(prompt_version="v2", judged=0.05), START, 60, 5, seed=2)
    result = compare(store, rubric="helpfulness")
    [helpfulness] = result.scores
    assert helpfulness.verdict == "too few judged"
    assert any("sampling" in w and w.startswith("helpfulness: ") for w in result.warnings)
    assert f"helpfulness: only {helpfulness.b.n} judged interactions for B, need 30" in (
        result.warnings
    )


def test_a_variant_without_traffic_is_reported_not_an_error(store: Store) -> None:
    store_traffic(store, V1, START, 10, 5, seed=1)
    result = compare(store)
    assert result.b.interactions == 0
    assert result.warnings[0] == "B (v2) has no traffic in the period"
    assert result.to_dict()["b"]["latency_p50_ms"] is None  # NaN is not JSON


@pytest.mark.parametrize(
    ("dimension", "a", "b", "message"),
    [
        ("language", "en", "de", "dimension must be one of prompt_version"),
        ("prompt_version", "v1", "v1", "nothing to compare"),
        ("prompt_version", "", "v1", "must be named"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    sqlite_store: Store, dimension: str, a: str, b: str, message: str
) -> None:
    with sqlite_store.reading() as conn, pytest.raises(ValueError, match=message):
        compare_online(conn, "shop", dimension, a, b, START, T0)


def test_an_empty_period_is_refused(sqlite_store: Store) -> None:
    with sqlite_store.reading() as conn, pytest.raises(ValueError, match="after since"):
        compare_online(conn, "shop", "prompt_version", "v1", "v2", T0, T0)


def test_verdicts_need_the_minimum_effect_too(scene: Store) -> None:
    strict = compare(scene, min_score_effect=0.5)  # half the 1..5 scale: 2 points
    [helpfulness] = strict.scores
    assert helpfulness.difference.p_value < 0.05
    assert helpfulness.min_effect == pytest.approx(2.0)
    assert helpfulness.verdict == "significant, but smaller than the minimum effect"
