from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from liveeval.model.routing import Outcome
from liveeval.routing.insights import insights

from .tasks import START, task

NOW = START + timedelta(days=9)


def history(seed: int) -> list[Outcome]:
    """Nine days of outcomes; in the last two, arm "fast" fails far more in German."""
    rng = random.Random(seed)
    outcomes = []
    for i in range(9 * 24 * 20):
        at = START + timedelta(minutes=3 * i)
        language = rng.choice(["en", "de"])
        arm = rng.choice(["fast", "slow"])
        rate = 0.8
        if arm == "fast" and language == "de" and at >= NOW - timedelta(hours=48):
            rate = 0.4
        success = rng.random() < rate
        outcomes.append(Outcome(str(i), arm, at, {"language": language}, success=success))
    return outcomes


def test_a_degraded_arm_is_named_with_its_figures() -> None:
    config = task(
        {"fast": "candidate", "slow": "candidate"}, slices=["language"], reward={"kind": "success"}
    )
    outcomes = history(1)
    result = insights(outcomes, config, now=NOW)
    degraded = {(item.arm, item.slice_key) for item in result.degraded}
    assert ("fast", "language=de") in degraded
    assert ("slow", "language=de") not in degraded
    assert ("fast", "language=en") not in degraded
    assert "fast degraded in language=de" in result.recommendation
    assert "best arm now: slow" in result.recommendation
    assert result.window == (NOW - timedelta(hours=48), NOW)
    assert result.baseline == (NOW - timedelta(hours=216), NOW - timedelta(hours=48))


def test_the_change_interval_is_welchs_as_statsmodels_computes_it() -> None:
    config = task(
        {"fast": "candidate", "slow": "candidate"}, slices=["language"], reward={"kind": "success"}
    )
    outcomes = history(2)
    item = next(
        i
        for i in insights(outcomes, config, now=NOW).arms
        if (i.arm, i.slice_key) == ("fast", "language=de")
    )
    start = NOW - timedelta(hours=48)
    chosen = [o for o in outcomes if o.arm == "fast" and o.context["language"] == "de"]
    current = np.array([float(bool(o.success)) for o in chosen if o.at >= start])
    baseline = np.array([float(bool(o.success)) for o in chosen if o.at < start])
    low, high = CompareMeans(DescrStatsW(current), DescrStatsW(baseline)).tconfint_diff(
        usevar="unequal"
    )
    assert item.difference_interval == pytest.approx((low, high))
    expected = np.clip(DescrStatsW(current).tconfint_mean(), 0.0, 1.0)
    assert item.current_interval == pytest.approx(tuple(expected))
    assert item.current_n == current.size
    assert 0.4 < item.share < 0.6


def test_a_reward_interval_stays_within_0_and_1_on_few_outcomes() -> None:
    # 10 of 11 successes: the t interval runs past 1, where no mean reward can be.
    now = [Outcome(f"n{i}", "fast", NOW - timedelta(hours=1), success=i != 0) for i in range(11)]
    past = [Outcome(f"p{i}", "fast", NOW - timedelta(days=3), success=False) for i in range(3)]
    config = task({"fast": "candidate", "slow": "candidate"})
    [item] = [i for i in insights(now + past, config, now=NOW).arms if i.slice_key == "*"]
    low, high = DescrStatsW(np.array([0.0] + [1.0] * 10)).tconfint_mean()
    assert high > 1.0
    assert item.current_interval == pytest.approx((low, 1.0))
    assert item.baseline_interval == (0.0, 0.0)


def test_windows_must_be_positive() -> None:
    config = task({"a": "candidate"})
    with pytest.raises(ValueError, match="must be positive"):
        insights([], config, now=NOW, lookback=timedelta(0))
    assert insights([], config, now=NOW).recommendation.startswith("not enough outcomes")
