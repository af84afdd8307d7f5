from __future__ import annotations

import math
import random
from collections.abc import Mapping

import numpy as np
import pytest
from scipy import stats

from liveeval.routing.replay import LoggedDecision, replay, snapshot_policy

from .test_choose import snapshot

SLICES = {"en": 0.5, "de": 0.3, "fi": 0.2}
MEANS = {
    "en": {"a": 0.7, "b": 0.5, "c": 0.3},
    "de": {"a": 0.4, "b": 0.6, "c": 0.5},
    "fi": {"a": 0.2, "b": 0.3, "c": 0.8},
}
LOGGING = {
    "en": {"a": 0.6, "b": 0.3, "c": 0.1},
    "de": {"a": 0.2, "b": 0.6, "c": 0.2},
    "fi": {"a": 0.3, "b": 0.3, "c": 0.4},
}
TARGET = {
    "en": {"a": 0.9, "b": 0.05, "c": 0.05},
    "de": {"a": 0.1, "b": 0.2, "c": 0.7},
    "fi": {"a": 0.0, "b": 0.0, "c": 1.0},
}


def target(context: Mapping[str, object]) -> Mapping[str, float]:
    return TARGET[str(context["language"])]


def true_value() -> float:
    return sum(
        share * sum(p * MEANS[s][arm] for arm, p in TARGET[s].items())
        for s, share in SLICES.items()
    )


def logged(n: int, seed: int) -> list[LoggedDecision]:
    rng = random.Random(seed)
    log = []
    for _ in range(n):
        language = rng.choices(list(SLICES), weights=list(SLICES.values()))[0]
        arms, weights = zip(*LOGGING[language].items(), strict=True)
        arm = rng.choices(arms, weights=weights)[0]
        reward = float(rng.random() < MEANS[language][arm])
        log.append(LoggedDecision({"language": language}, arm, LOGGING[language][arm], reward))
    return log


def test_replay_intervals_cover_the_true_value_of_the_candidate_policy() -> None:
    truth = true_value()
    covered = {"ips": 0, "snips": 0, "dr": 0}
    errors = {"ips": [], "snips": [], "dr": []}  # type: dict[str, list[float]]
    seeds = 200
    for seed in range(seeds):
        result = replay(logged(1500, seed), target)
        for estimate in (result.ips, result.snips, result.dr):
            covered[estimate.method] += estimate.low <= truth <= estimate.high
            errors[estimate.method].append(estimate.value - truth)
    for method, hits in covered.items():
        # 95% intervals: at least 90% of 200 seeds (binomial 5% tail is about 91%).
        assert hits / seeds >= 0.9, (method, hits)
        assert abs(float(np.mean(errors[method]))) < 0.01, method
    # Doubly robust is the steadiest here (its reward model is right).
    assert np.std(errors["dr"]) < np.std(errors["ips"])


def test_the_ips_interval_is_the_student_t_interval_of_its_terms() -> None:
    log = logged(300, 1)
    result = replay(log, target)
    terms = [target(d.context).get(d.arm, 0.0) / d.probability * d.reward for d in log]
    low, high = stats.t.interval(0.95, len(terms) - 1, loc=np.mean(terms), scale=stats.sem(terms))
    assert (result.ips.low, result.ips.high) == pytest.approx((low, high))
    assert result.ips.value == pytest.approx(np.mean(terms))
    weights = [target(d.context).get(d.arm, 0.0) / d.probability for d in log]
    assert result.effective_n == pytest.approx(sum(weights) ** 2 / sum(w * w for w in weights))


def test_the_logging_policy_replays_to_its_own_mean_reward() -> None:
    log = logged(500, 2)
    result = replay(log, lambda context: LOGGING[str(context["language"])])
    mean = math.fsum(d.reward for d in log) / len(log)
    assert result.snips.value == pytest.approx(mean)
    assert result.ips.value == pytest.approx(mean)


def test_a_snapshot_replays_as_a_policy() -> None:
    policy = snapshot_policy(snapshot())
    assert policy({"language": "de"}) == {"a": 0.0, "b": 0.0, "c": 1.0}
    assert policy({}) == {"a": 0.2, "b": 0.5, "c": 0.3}


def test_bad_logs_are_refused() -> None:
    with pytest.raises(ValueError, match="needs logged decisions"):
        replay([], target)
    with pytest.raises(ValueError, match=r"decision 0: logged probability 0.0 not in \(0, 1\]"):
        replay([LoggedDecision({"language": "en"}, "a", 0.0, 1.0)], target)
    with pytest.raises(ValueError, match=r"decision 0: reward 2\.0"):
        replay([LoggedDecision({"language": "en"}, "a", 0.5, 2.0)], target)
