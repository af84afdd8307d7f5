from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from liveeval.config.sampling import SamplingConfig
from liveeval.model import SignalKind
from liveeval.sampling import (
    Candidate,
    Decision,
    Priority,
    SamplerState,
    decide,
    strata_of,
    trigger,
    triggered_by,
    unit_hash,
)

CONFIG = SamplingConfig()
EMPTY = SamplerState()
TRACE_IDS = [hashlib.sha256(str(i).encode()).hexdigest()[:32] for i in range(5000)]
UNIFORM_HIT = next(t for t in TRACE_IDS if unit_hash(t, "uniform") < 0.02)
UNIFORM_MISS = next(
    t for t in TRACE_IDS if unit_hash(t, "uniform") >= 0.02 and unit_hash(t, "uncertainty") >= 0.5
)
LOW_CONFIDENCE_HIT = next(
    t for t in TRACE_IDS if unit_hash(t, "uncertainty") < 0.5 and unit_hash(t, "uniform") >= 0.02
)
trace_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


def candidate(trace_id: str = UNIFORM_MISS, **fields: Any) -> Candidate:
    return Candidate(trace_id=trace_id, span_id="00f067aa0ba902b7", project="shop", **fields)


def config(**fields: object) -> SamplingConfig:
    return SamplingConfig.model_validate(fields)


@given(trace_ids, st.floats(0, 1) | st.none(), st.integers(0, 2000))
def test_the_same_inputs_give_the_same_decision(
    trace_id: str, confidence: float | None, used: int
) -> None:
    item = candidate(trace_id, slice={"route": "billing"}, confidence=confidence)
    state = SamplerState(judged_in_window={("route", "billing"): 5}, judgments_today=used)
    assert decide(item, CONFIG, state) == decide(item, CONFIG, state)


@given(trace_ids, st.sampled_from(sorted(CONFIG.signal.kinds)), st.integers(0, 999))
def test_a_trigger_signal_is_always_sampled_while_the_budget_lasts(
    trace_id: str, kind: str, used: int
) -> None:
    item = candidate(trace_id, signals=frozenset({kind}))
    decision = decide(item, CONFIG, SamplerState(judgments_today=used))
    assert decision.sampled
    assert (decision.policy, decision.priority) == ("signal", Priority.SIGNAL)
    assert decision.reason.startswith(f"signal: {kind}")


def test_an_interaction_no_policy_wants_is_not_sampled_with_every_reason() -> None:
    item = candidate(slice={"route": "billing"}, confidence=0.9)
    state = SamplerState(judged_in_window={("route", "billing"): 5})
    decision = decide(item, CONFIG, state)
    assert decision == Decision(
        sampled=False,
        policy=None,
        priority=Priority.NONE,
        reason="not sampled: signal: no trigger signal; "
        "stratified: strata at their floors (route=billing 5/5 in this 1d window); "
        "uncertainty: confidence 0.900 ≥ threshold 0.6; "
        f"uniform: hash {unit_hash(UNIFORM_MISS, 'uniform'):.4f} ≥ rate 0.02",
    )
    assert not decision.refused_by_budget


def test_the_most_urgent_policy_decides_and_the_others_are_listed() -> None:
    item = candidate(UNIFORM_HIT, signals=frozenset({"thumbs_down"}), slice={"route": "billing"})
    decision = decide(item, CONFIG, EMPTY)
    assert decision.sampled
    assert (decision.policy, decision.priority) == ("signal", 0)
    assert decision.selected_by == ("signal", "stratified", "uniform")
    assert decision.reason == (
        "signal: thumbs_down; also stratified: under floor route=billing 0/5 in this 1d window; "
        f"also uniform: hash {unit_hash(UNIFORM_HIT, 'uniform'):.4f} < rate 0.02"
    )


def test_each_policy_decides_with_its_own_priority() -> None:
    stratum = {("route", "billing"): 5}
    cases = [
        (candidate(signals=frozenset({"escalated"})), "signal", 0),
        (candidate(slice={"route": "billing"}), "stratified", 1),
        (candidate(LOW_CONFIDENCE_HIT, confidence=0.1), "uncertainty", 2),
        (candidate(UNIFORM_HIT), "uniform", 3),
    ]
    for item, policy, priority in cases:
        state = SamplerState(judged_in_window={} if policy == "stratified" else stratum)
        decision = decide(item, CONFIG, state)
        assert (decision.sampled, decision.policy, decision.priority) == (True, policy, priority)
        assert decision.reason.startswith(f"{policy}: ")


def test_only_configured_policies_run() -> None:
    only_uniform = config(policies=["uniform"])
    item = candidate(signals=frozenset({"thumbs_down"}), slice={"route": "billing"})
    decision = decide(item, only_uniform, EMPTY)
    assert not decision.sampled
    assert decision.reason.startswith("not sampled: uniform: hash")
    nothing = decide(item, config(policies=[]), EMPTY)
    assert nothing.reason == "not sampled: no sampling policy configured"


def test_a_late_signal_turns_an_unsampled_interaction_into_a_judged_one() -> None:
    at_ingest = candidate(slice={"route": "chat"})
    state = SamplerState(judged_in_window={("route", "chat"): 5})
    assert not decide(at_ingest, CONFIG, state).sampled
    assert trigger("thumbs_down", CONFIG) and trigger(SignalKind.ABANDONED, CONFIG)
    assert not trigger("thumbs_up", CONFIG)
    later = candidate(slice={"route": "chat"}, signals=frozenset({SignalKind.THUMBS_DOWN}))
    assert triggered_by(later, CONFIG) == "thumbs_down"
    decision = decide(later, CONFIG, state)
    assert (decision.sampled, decision.policy, decision.reason) == (
        True,
        "signal",
        "signal: thumbs_down",
    )


def test_triggers_follow_the_config() -> None:
    no_checks = config(signal={"kinds": ["report"], "on_failed_checks": False})
    failed = candidate(failed_checks=frozenset({"schema"}))
    assert triggered_by(failed, CONFIG) == "failed check schema"
    assert triggered_by(failed, no_checks) is None
    assert trigger("report", no_checks) and not trigger("thumbs_down", no_checks)
    without_signal_policy = config(policies=["uniform"])
    assert not trigger("thumbs_down", without_signal_policy)
    assert (
        triggered_by(candidate(signals=frozenset({"thumbs_down"})), without_signal_policy) is None
    )


def test_the_budget_refuses_with_its_reason_and_who_wanted_it() -> None:
    full = SamplerState(judgments_today=1000)
    item = candidate(signals=frozenset({"thumbs_down"}))
    decision = decide(item, CONFIG, full)
    assert not decision.sampled and decision.refused_by_budget
    assert (decision.policy, decision.selected_by) == ("signal", ("signal",))
    assert decision.reason == (
        "budget: daily limit of 1000 judgments reached (1000 used); wanted by signal: thumbs_down"
    )


def test_exempt_triggers_pass_a_spent_budget_but_nothing_else_does() -> None:
    exempt = config(budget={"max_judgments_per_day": 10, "triggers_exempt": True})
    full = SamplerState(judgments_today=10)
    triggered = decide(candidate(signals=frozenset({"regenerated"})), exempt, full)
    assert triggered.sampled
    assert triggered.reason == (
        "signal: regenerated; over budget, triggers exempt "
        "(budget: daily limit of 10 judgments reached (10 used))"
    )
    assert not decide(candidate(UNIFORM_HIT), exempt, full).sampled


def test_as_the_day_fills_lower_priorities_stop_first() -> None:
    """Stream one day's traffic through a 100-judgment budget and watch who gets through."""
    day = config(
        budget={"max_judgments_per_day": 100},
        uniform={"rate": 0.05},
        stratified={"dimensions": ["route"], "floor": 3, "window": "1h"},
    )
    counts: dict[tuple[str, str], int] = {}
    used = 0
    admitted_at: dict[str, list[int]] = {}
    refused: dict[str, int] = {}
    for i, trace_id in enumerate(TRACE_IDS):
        signals = frozenset({"thumbs_down"}) if i % 50 == 0 else frozenset()
        # A new route every 100 interactions keeps the strata floors asking all day.
        item = candidate(trace_id, slice={"route": f"r{i // 100}"}, signals=signals)
        decision = decide(item, day, SamplerState(judged_in_window=counts, judgments_today=used))
        if decision.sampled:
            assert decision.policy is not None
            admitted_at.setdefault(decision.policy, []).append(used)
            used += 1
            for stratum in strata_of(item, day.stratified.dimensions):
                counts[stratum] = counts.get(stratum, 0) + 1
        elif decision.refused_by_budget:
            assert decision.policy is not None
            refused[decision.policy] = refused.get(decision.policy, 0) + 1
    assert used == 100
    assert max(admitted_at["uniform"]) < 70  # uniform fills 70%
    assert 70 <= max(admitted_at["stratified"]) < 90  # strata floors fill 90%
    assert max(admitted_at["signal"]) == 99  # the last tenth was kept for triggers
    assert set(refused) == {"signal", "stratified", "uniform"}


def test_the_priority_is_a_plain_int_for_the_store() -> None:
    for item in (candidate(), candidate(signals=frozenset({"thumbs_down"}))):
        assert type(decide(item, CONFIG, EMPTY).priority) is int
