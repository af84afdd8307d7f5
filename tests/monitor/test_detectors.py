"""Detectors through the real rule code: false alerts over many simulated null streams stay
within the budget, known shifts are caught, and detectability matches its closed form."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.stats import poisson

from liveeval.config.monitor import DriftConfig, RuleConfig
from liveeval.model.alert import Alert
from liveeval.model.rollup import Aggregate
from liveeval.monitor.alerting import reconcile
from liveeval.monitor.budget import Budget
from liveeval.monitor.detectors import SCALES, Bernoulli, Detector
from liveeval.monitor.rules import evaluate_rule
from liveeval.stats.sequential import bernoulli_kl

START = datetime(2026, 11, 1, tzinfo=UTC)
VALUES = ("m", "m", "v1", "support", None, "en")
RULE = RuleConfig.model_validate(
    {"name": "regen", "metric": "regenerated_rate", "threshold": 0.05, "window": "3d",
     "baseline": "7d", "pending": "1m", "keep_firing_for": "1m", "cooldown": "1m"}
)  # fmt: skip


def hour(n: int, regenerated: int) -> Aggregate:
    return Aggregate(interactions=n, signals=Counter(regenerated=regenerated))


def alerts_on(rate_after: float, budget: float, hours: int, seed: int) -> tuple[int, int | None]:
    """Alerts triggered over `hours` of hourly batches at 40 an hour (5% regenerated, then
    `rate_after`), one look an hour, a 3-day window against the 7 days before; and the
    hour of the first."""
    rng = np.random.default_rng(seed)
    history = [hour(40, int(rng.binomial(40, 0.05))) for _ in range(10 * 24)]
    firing: dict[str, Alert] = {}
    triggers, first = 0, None
    for t in range(hours):
        history.append(hour(40, int(rng.binomial(40, rate_after))))
        now = START + timedelta(hours=t + 1)
        window = [
            (now - timedelta(hours=72 - k), now - timedelta(hours=71 - k), [(VALUES, agg)], {})
            for k, agg in enumerate(history[-72:])
        ]
        baseline = Aggregate()
        for agg in history[-24 * 10 : -72]:
            baseline.add(agg)
        found = evaluate_rule(RULE, window, [(VALUES, baseline)], DriftConfig(), budget=budget)
        for change in reconcile("p", found, firing, {}, now):
            if change.action == "trigger":
                triggers += 1
                first = t if first is None else first
            if change.action == "resolve":
                firing.pop(change.alert.fingerprint)
            else:
                firing[change.alert.fingerprint] = change.alert
    return triggers, first


def test_false_alerts_over_many_null_streams_stay_within_the_budget() -> None:
    # A budget of 30 false alerts a month for the one detector: 40 streams of 10 days
    # may hold at most about 40 * 30 / 3 = 400 alerts; the Poisson tail bounds the count.
    budget, streams, days = 30.0, 40, 10
    total = sum(alerts_on(0.05, budget, days * 24, seed)[0] for seed in range(streams))
    allowed = budget * streams * days / 30
    assert total <= poisson.ppf(0.999, allowed)


def test_a_doubled_rate_is_caught() -> None:
    found = [alerts_on(0.10, 1.0, 5 * 24, seed) for seed in range(5)]
    assert all(first is not None for _, first in found)


def test_detectability_is_h_over_the_kl_divergence() -> None:
    # A baseline known almost exactly: the bound is the estimate, the drift at the
    # minimum effect is KL(p0 + effect || p0) per observation.
    model = Bernoulli(estimate=0.05, bound=0.05)
    per_minute, budget = 2.0, Budget(1.0, 20)
    detector = Detector("rise", model, 0.05, [], per_minute, timedelta(days=1))
    verdict = detector.decide(budget)
    h = math.log(budget.run_length(per_minute)) + math.log(len(SCALES))
    assert verdict.threshold == h
    expected = h / bernoulli_kl(0.10, 0.05) / per_minute
    assert verdict.detectability.delay is not None
    assert verdict.detectability.delay.total_seconds() / 60 == pytest.approx(expected)
    assert verdict.detectability.detects == (expected <= 1440)
