from __future__ import annotations

import hashlib
import math
from typing import Any

from liveeval.config.sampling import POLICY_NAMES, SamplingConfig
from liveeval.sampling import (
    POLICIES,
    Candidate,
    Priority,
    SamplerState,
    build_policies,
    decide,
    strata_of,
    unit_hash,
)
from liveeval.sampling.policies import (
    SignalPolicy,
    StratifiedPolicy,
    UncertaintyPolicy,
    UniformPolicy,
)

EMPTY = SamplerState()
TRACE_IDS = [hashlib.sha1(str(i).encode()).hexdigest()[:32] for i in range(20_000)]


def candidate(trace_id: str = "4bf92f3577b34da6a3ce929d0e0e4736", **fields: Any) -> Candidate:
    return Candidate(trace_id=trace_id, span_id="00f067aa0ba902b7", project="shop", **fields)


def trace_with_hash(policy: str, below: float | None = None, above: float | None = None) -> str:
    """The first test trace id whose draw for `policy` is below / at or above a bound."""
    for trace_id in TRACE_IDS:
        draw = unit_hash(trace_id, policy)
        if (below is None or draw < below) and (above is None or draw >= above):
            return trace_id
    raise AssertionError("no such trace id")


def test_every_configurable_policy_is_registered_under_its_name() -> None:
    assert set(POLICIES) == set(POLICY_NAMES)
    for name in POLICY_NAMES:
        assert POLICIES[name](SamplingConfig()).name == name


def test_policies_are_built_most_urgent_first_whatever_the_config_order() -> None:
    config = SamplingConfig(policies=("uniform", "signal", "uncertainty", "stratified"))
    built = build_policies(config)
    assert [p.name for p in built] == ["signal", "stratified", "uncertainty", "uniform"]
    assert [p.priority for p in built] == [0, 1, 2, 3]


def test_uniform_selects_below_its_rate_and_says_so() -> None:
    policy = UniformPolicy(rate=0.02)
    inside = trace_with_hash("uniform", below=0.02)
    outside = trace_with_hash("uniform", above=0.02)
    chosen = policy.evaluate(candidate(inside), EMPTY)
    assert chosen.selected and chosen.priority == Priority.UNIFORM
    assert chosen.reason == f"uniform: hash {unit_hash(inside, 'uniform'):.4f} < rate 0.02"
    missed = policy.evaluate(candidate(outside), EMPTY)
    assert not missed.selected
    assert missed.reason == f"uniform: hash {unit_hash(outside, 'uniform'):.4f} ≥ rate 0.02"


def test_uniform_selects_close_to_its_rate() -> None:
    policy = UniformPolicy(rate=0.02)
    n = len(TRACE_IDS)
    selected = sum(policy.evaluate(candidate(t), EMPTY).selected for t in TRACE_IDS)
    # Binomial(20,000, 0.02): mean 400, sd ≈ 19.8; five sd either side.
    assert abs(selected - n * 0.02) <= 5 * math.sqrt(n * 0.02 * 0.98)


def test_rates_zero_and_one_select_nothing_and_everything() -> None:
    for trace_id in TRACE_IDS[:500]:
        assert not UniformPolicy(rate=0.0).evaluate(candidate(trace_id), EMPTY).selected
        assert UniformPolicy(rate=1.0).evaluate(candidate(trace_id), EMPTY).selected


def test_signal_policy_selects_on_a_configured_signal() -> None:
    policy = SignalPolicy(kinds=frozenset({"thumbs_down", "regenerated"}), on_failed_checks=True)
    verdict = policy.evaluate(
        candidate(signals=frozenset({"thumbs_up", "thumbs_down", "regenerated"})), EMPTY
    )
    assert verdict.selected and verdict.priority == Priority.SIGNAL
    assert verdict.reason == "signal: regenerated, thumbs_down"


def test_signal_policy_ignores_other_signals() -> None:
    policy = SignalPolicy(kinds=frozenset({"thumbs_down"}), on_failed_checks=True)
    verdict = policy.evaluate(candidate(signals=frozenset({"thumbs_up"})), EMPTY)
    assert not verdict.selected
    assert verdict.reason == "signal: no trigger signal"


def test_a_failed_check_triggers_unless_turned_off() -> None:
    failed = candidate(failed_checks=frozenset({"json_schema", "empty"}))
    on = SignalPolicy(kinds=frozenset(), on_failed_checks=True).evaluate(failed, EMPTY)
    assert on.selected and on.reason == "signal: failed check empty, json_schema"
    off = SignalPolicy(kinds=frozenset(), on_failed_checks=False).evaluate(failed, EMPTY)
    assert not off.selected


def stratified(floor: int = 3, floors: dict[str, int] | None = None) -> StratifiedPolicy:
    config = SamplingConfig.model_validate(
        {"stratified": {"floor": floor, "floors": floors or {}, "window": "1h"}}
    )
    built = POLICIES["stratified"](config)
    assert isinstance(built, StratifiedPolicy)
    return built


def test_stratified_selects_while_a_stratum_is_under_its_floor() -> None:
    state = SamplerState(judged_in_window={("route", "billing"): 2, ("model", "m"): 9})
    verdict = stratified().evaluate(candidate(slice={"model": "m", "route": "billing"}), state)
    assert verdict.selected and verdict.priority == Priority.STRATIFIED
    assert verdict.reason == "stratified: under floor route=billing 2/3 in this 1h window"


def test_stratified_stops_when_every_stratum_is_at_its_floor() -> None:
    state = SamplerState(judged_in_window={("route", "billing"): 3, ("model", "m"): 9})
    verdict = stratified().evaluate(candidate(slice={"model": "m", "route": "billing"}), state)
    assert not verdict.selected
    assert verdict.reason == (
        "stratified: strata at their floors (model=m 9/3, route=billing 3/3 in this 1h window)"
    )


def test_a_stratum_override_beats_the_dimension_override_and_the_floor() -> None:
    policy = stratified(floor=1, floors={"route": 2, "route=billing": 4})
    state = SamplerState(judged_in_window={("route", "billing"): 3, ("route", "chat"): 3})
    assert policy.evaluate(candidate(slice={"route": "billing"}), state).selected
    assert not policy.evaluate(candidate(slice={"route": "chat"}), state).selected
    assert policy.floor_for("language", "fi") == 1


def test_an_interaction_without_slice_values_has_no_strata() -> None:
    policy = stratified()
    verdict = policy.evaluate(candidate(slice={"route": None, "model": ""}), EMPTY)
    assert not verdict.selected
    assert verdict.reason == "stratified: no slice values to stratify on"


def test_strata_skip_unset_and_unconfigured_dimensions() -> None:
    found = candidate(slice={"route": "billing", "model": None, "tenant": "acme", "segment": "pro"})
    assert strata_of(found, ("model", "prompt_version", "route", "language", "segment")) == (
        ("route", "billing"),
        ("segment", "pro"),
    )


def test_the_floor_fills_a_rare_slice_that_uniform_sampling_would_drown() -> None:
    """1% of traffic is the billing route: the floor still gets it judged each window."""
    config = SamplingConfig.model_validate(
        {
            "stratified": {"dimensions": ["route"], "floor": 5},
            "uniform": {"rate": 0.02},
            "policies": ["stratified", "uniform"],
            "budget": {"max_judgments_per_day": None},
        }
    )
    counts: dict[tuple[str, str], int] = {}
    judged = {"billing": 0, "chat": 0}
    for i, trace_id in enumerate(TRACE_IDS[:10_000]):
        route = "billing" if i % 100 == 0 else "chat"
        item = candidate(trace_id, slice={"route": route})
        decision = decide(item, config, SamplerState(judged_in_window=counts))
        if decision.sampled:
            judged[route] += 1
            for stratum in strata_of(item, config.stratified.dimensions):
                counts[stratum] = counts.get(stratum, 0) + 1
    assert judged["billing"] >= 5  # 100 billing calls × 2% would give about 2
    assert 150 <= judged["chat"] <= 260  # about 2% of 9,900


def test_uncertainty_samples_low_confidence_at_its_rate() -> None:
    policy = UncertaintyPolicy(threshold=0.6, rate=0.5, failed_check_factor=0.5)
    low = [policy.evaluate(candidate(t, confidence=0.3), EMPTY) for t in TRACE_IDS[:4000]]
    share = sum(v.selected for v in low) / len(low)
    assert abs(share - 0.5) < 5 * math.sqrt(0.25 / len(low))
    assert all(v.priority == Priority.UNCERTAINTY for v in low)


def test_uncertainty_reasons() -> None:
    policy = UncertaintyPolicy(threshold=0.6, rate=0.5, failed_check_factor=0.5)
    inside = trace_with_hash("uncertainty", below=0.5)
    outside = trace_with_hash("uncertainty", above=0.5)
    draw_in, draw_out = unit_hash(inside, "uncertainty"), unit_hash(outside, "uncertainty")
    assert policy.evaluate(candidate(inside, confidence=0.3), EMPTY).reason == (
        f"uncertainty: confidence 0.300 < threshold 0.6, hash {draw_in:.4f} < rate 0.5"
    )
    assert policy.evaluate(candidate(outside, confidence=0.3), EMPTY).reason == (
        f"uncertainty: confidence 0.300 < threshold 0.6 but hash {draw_out:.4f} ≥ rate 0.5"
    )
    assert policy.evaluate(candidate(inside, confidence=0.9), EMPTY).reason == (
        "uncertainty: confidence 0.900 ≥ threshold 0.6"
    )
    assert policy.evaluate(candidate(inside), EMPTY).reason == "uncertainty: confidence unknown"


def test_a_failed_check_lowers_the_confidence_below_the_threshold() -> None:
    policy = UncertaintyPolicy(threshold=0.6, rate=1.0, failed_check_factor=0.5)
    confident = candidate(confidence=0.9)
    assert not policy.evaluate(confident, EMPTY).selected
    failed = candidate(confidence=0.9, failed_checks=frozenset({"length"}))
    verdict = policy.evaluate(failed, EMPTY)
    assert verdict.selected
    assert verdict.reason.startswith("uncertainty: confidence 0.450 (after 1 failed check(s)) <")
    unknown = candidate(failed_checks=frozenset({"length"}))
    assert policy.evaluate(unknown, EMPTY).selected
