from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveeval.stats.change import (
    Cusum,
    PageHinkley,
    batched_cusum_alarm,
    cusum_alarms,
    first_change,
    page_hinkley_alarms,
)

streams = st.lists(st.floats(min_value=-10, max_value=10), max_size=80)


def textbook_cusum(values: list[float], mu0: float, k: float, h: float) -> list[int]:
    """Montgomery's tabular CUSUM, two-sided, restarted after each signal."""
    alarms = []
    c_plus = c_minus = 0.0
    for i, x in enumerate(values):
        c_plus = max(0.0, x - (mu0 + k) + c_plus)
        c_minus = max(0.0, (mu0 - k) - x + c_minus)
        if c_plus > h or c_minus > h:
            alarms.append(i)
            c_plus = c_minus = 0.0
    return alarms


def textbook_page_hinkley_down(values: list[float], delta: float, lam: float) -> list[int]:
    """Page–Hinkley for a fall of the mean: m_T = Σ (x_t - mean_t + δ), alarm on M_T - m_T > λ."""
    alarms = []
    n, mean, m_t, big_m = 0, 0.0, 0.0, 0.0
    for i, x in enumerate(values):
        n += 1
        mean += (x - mean) / n
        m_t += x - mean + delta
        big_m = max(big_m, m_t)
        if big_m - m_t > lam:
            alarms.append(i)
            n, mean, m_t, big_m = 0, 0.0, 0.0, 0.0
    return alarms


@given(streams, st.floats(0, 3), st.floats(0, 8))
@settings(max_examples=50)
def test_two_sided_cusum_matches_the_textbook_recursion(
    values: list[float], k: float, h: float
) -> None:
    assert cusum_alarms(values, 1.0, k, h, direction="both") == textbook_cusum(values, 1.0, k, h)


@given(streams)
@settings(max_examples=50)
def test_page_hinkley_matches_the_textbook_cumulative_form(values: list[float]) -> None:
    expected = textbook_page_hinkley_down(values, 0.1, 4.0)
    assert page_hinkley_alarms(values, 0.1, 4.0, min_samples=1) == expected


def test_one_sided_cusum_only_sees_its_own_direction() -> None:
    down = [0.0] * 5 + [-2.0] * 10
    up = [0.0] * 5 + [2.0] * 10
    assert cusum_alarms(down, 0.0, 0.5, 4.0, direction="down") == [7, 10, 13]
    assert cusum_alarms(down, 0.0, 0.5, 4.0, direction="up") == []
    assert cusum_alarms(up, 0.0, 0.5, 4.0, direction="up") == [7, 10, 13]
    assert cusum_alarms(up, 0.0, 0.5, 4.0, direction="down") == []


def test_cusum_keeps_its_state_until_reset() -> None:
    detector = Cusum(target=4.0, slack=0.25, threshold=1.0)
    assert [detector.update(x) for x in (4.0, 3.0, 3.25)] == [False, False, True]
    assert detector.s_low == pytest.approx(1.25)
    assert detector.update(3.75)
    detector.reset()
    assert (detector.s_low, detector.s_high) == (0.0, 0.0)
    assert not detector.update(4.0)


def test_an_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError):
        Cusum(0.0, 0.5, 5.0, direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PageHinkley(0.1, 5.0, alpha=0.0)


def test_standardized_cusum_false_alarm_rate_matches_the_in_control_arl() -> None:
    # Montgomery, Table 9.3: k = 0.5, h = 5 gives ARL0 ≈ 465 for the two-sided CUSUM.
    noise = np.random.default_rng(20240501).standard_normal(200_000)
    alarms = cusum_alarms(noise.tolist(), 0.0, 0.5, 5.0, direction="both")
    arl0 = len(noise) / len(alarms)
    assert 465 / 1.5 < arl0 < 465 * 1.5


def test_standardized_cusum_finds_a_one_sigma_step_within_the_textbook_delay() -> None:
    # Montgomery, Table 9.3: a one-sigma shift is signalled after ARL1 ≈ 10.4 samples.
    rng = np.random.default_rng(7)
    delays = []
    for _ in range(400):
        shifted = (rng.standard_normal(200) - 1.0).tolist()
        alarm = first_change(shifted, target=0.0, sd=1.0)
        assert alarm is not None
        delays.append(alarm + 1)
    assert 10.4 / 1.5 < np.mean(delays) < 10.4 * 1.5


def test_first_change_finds_a_drop_of_the_judge_score_after_the_reference_segment() -> None:
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.normal(4.2, 0.3, 120), rng.normal(3.9, 0.3, 60)])
    found = first_change(scores.tolist(), reference_size=60)
    assert found is not None
    assert 120 <= found < 145
    assert first_change(scores[:120].tolist(), reference_size=60) is None


def test_first_change_of_a_flat_reference_alarms_at_the_first_different_value() -> None:
    assert first_change([3.0] * 10 + [3.0, 2.5], reference_size=10) == 11
    assert first_change([3.0] * 10 + [3.5], reference_size=10, direction="down") is None


def test_first_change_needs_two_reference_values() -> None:
    assert first_change([1.0], reference_size=30) is None
    assert first_change([], target=0.0, sd=1.0) is None


def test_page_hinkley_finds_a_step_down_and_ignores_a_steady_stream() -> None:
    rng = np.random.default_rng(11)
    steady = rng.normal(4.0, 0.3, 300)
    stepped = np.concatenate([steady[:150], steady[150:] - 0.6])
    assert page_hinkley_alarms(steady.tolist(), delta=0.05, threshold=5.0) == []
    alarms = page_hinkley_alarms(stepped.tolist(), delta=0.05, threshold=5.0)
    assert alarms
    assert 150 <= alarms[0] < 175
    assert page_hinkley_alarms(stepped.tolist(), 0.05, 5.0, direction="up") == []


def test_page_hinkley_waits_for_min_samples_before_alarming() -> None:
    detector = PageHinkley(delta=0.0, threshold=0.5, min_samples=5)
    results = [detector.update(x) for x in (5.0, 5.0, 1.0, 1.0, 1.0, 1.0)]
    assert results == [False, False, False, False, True, True]


def test_page_hinkley_with_forgetting_cannot_pile_up_more_than_a_few_steps() -> None:
    # Each step adds at most 1 to g, so with alpha = 0.5 it stays below 1 / (1 - 0.5) = 2.
    values = [0.0] * 100 + [-1.0] * 50
    remembered = page_hinkley_alarms(values, delta=0.0, threshold=5.0, alpha=1.0)
    assert remembered and 100 < remembered[0] < 110
    assert page_hinkley_alarms(values, delta=0.0, threshold=5.0, alpha=0.5) == []
    forgetting = PageHinkley(delta=0.0, threshold=5.0, alpha=0.5)
    highest = 0.0
    for x in values:
        forgetting.update(x)
        highest = max(highest, forgetting.g_low)
    assert 1.0 < highest < 2.0


def test_batched_cusum_matches_the_per_observation_cusum_on_batches_of_one() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(4.0, 1.0, 80), rng.normal(3.0, 1.0, 40)])
    expected = cusum_alarms(values, target=4.0, slack=0.5, threshold=5.0, direction="down")
    found = batched_cusum_alarm([(1, v) for v in values], 4.0, 1.0)
    assert found == expected[0]


def test_batched_cusum_on_minute_means_alarms_soon_after_a_step_and_not_before() -> None:
    rng = np.random.default_rng(8)
    minutes = [rng.normal(4.0, 1.0, 5) for _ in range(60)] + [
        rng.normal(3.0, 1.0, 5) for _ in range(30)
    ]
    batches = [(len(m), float(m.mean())) for m in minutes]
    alarm = batched_cusum_alarm(batches, 4.0, 1.0)
    assert alarm is not None and 60 <= alarm <= 64  # ~10 observations: two or three minutes
    assert batched_cusum_alarm(batches[:60], 4.0, 1.0) is None
    assert batched_cusum_alarm(batches, 4.0, 1.0, direction="up") is None
