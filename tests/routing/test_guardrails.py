from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveeval.routing import guardrails

ARMS = ("a", "b", "c", "d")
weights = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=4, max_size=4).filter(
    lambda w: sum(w) > 1e-6
)
floors = st.lists(st.floats(min_value=0.0, max_value=0.25), min_size=4, max_size=4)


@given(weights, floors)
@settings(max_examples=200)
def test_the_floor_holds_every_floor_and_keeps_the_total(w: list[float], f: list[float]) -> None:
    shares = dict(zip(ARMS, w, strict=True))
    floor_of = dict(zip(ARMS, f, strict=True))
    got = guardrails.floor(shares, floor_of)
    assert math.fsum(got.values()) == pytest.approx(1.0)
    assert all(got[arm] >= floor_of[arm] - 1e-12 for arm in ARMS)
    # Arms above their floors keep their order.
    free = [arm for arm in ARMS if got[arm] > floor_of[arm] + 1e-9]
    for x in free:
        for y in free:
            if shares[x] > shares[y]:
                assert got[x] >= got[y] - 1e-12


@given(weights, st.floats(min_value=0.0, max_value=1.0))
@settings(max_examples=200)
def test_a_cap_holds_and_keeps_the_total(w: list[float], limit: float) -> None:
    shares = guardrails.normalise(dict(zip(ARMS, w, strict=True)))
    got = guardrails.cap(shares, "a", limit, "b")
    assert got["a"] <= limit + 1e-12
    assert math.fsum(got.values()) == pytest.approx(1.0)
    assert all(got[arm] >= shares[arm] - 1e-12 for arm in ARMS[1:])


@given(weights, weights, st.floats(min_value=0.0, max_value=0.2))
@settings(max_examples=200)
def test_conservative_mixing_never_falls_below_control_minus_tolerance(
    w: list[float], m: list[float], tolerance: float
) -> None:
    shares = guardrails.normalise(dict(zip(ARMS, w, strict=True)))
    means = dict(zip(ARMS, m, strict=True))
    got, weight = guardrails.conservative(shares, means, "a", tolerance)
    assert 0.0 <= weight <= 1.0
    assert math.fsum(got.values()) == pytest.approx(1.0)
    assert guardrails.expected(got, means) >= means["a"] - tolerance - 1e-9


def test_a_cap_keeps_the_total_when_the_other_arms_hold_a_subnormal_share() -> None:
    # Found by hypothesis: (1 - limit) * 5e-324 underflowed to 0 before the division.
    shares = guardrails.normalise({"a": 1.0, "b": 5e-324, "c": 0.0, "d": 0.0})
    got = guardrails.cap(shares, "a", 0.5, "b")
    assert got == {"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0}
    floored = guardrails.floor(shares, {"a": 0.0, "b": 0.0, "c": 0.25, "d": 0.25})
    assert math.fsum(floored.values()) == pytest.approx(1.0)
