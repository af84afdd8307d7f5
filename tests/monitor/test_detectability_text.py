"""The words each SLI row shows: its status, what its detector detects, how soon."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liveeval.config.monitor import RuleConfig
from liveeval.monitor.detectability_text import (
    delay_text,
    detects_text,
    duration_text,
    group_by_rule,
    number_text,
    status_of,
    volume_text,
)
from liveeval.monitor.detectors import Detectability
from liveeval.monitor.metrics import Measurement
from liveeval.monitor.rules import Evaluation

RISE = RuleConfig(name="regen", metric="regenerated_rate", threshold=0.05)
DROP = RuleConfig(name="judge", metric="judge_mean", threshold=0.3)
EITHER = RuleConfig(name="errors", metric="error_rate", threshold=0.02, direction="either")
COST = RuleConfig(name="cost", metric="cost_mean", threshold=0.01)


def seen(
    min_effect: float = 0.05,
    delay: timedelta | None = timedelta(hours=9),
    smallest: float | None = 0.03,
    detects: bool = True,
) -> Detectability:
    return Detectability(2.0, 14.0, min_effect, delay, smallest, detects)


def measured(
    breached: bool = False,
    sufficient: bool = True,
    detectability: Detectability | None = None,
    n: int = 500,
) -> Measurement:
    return Measurement(
        0.02, 0.02, n, 5000, breached, sufficient, "summary", detectability=detectability
    )


WATCHING = measured(detectability=seen())
BREACHED = measured(breached=True, detectability=seen())
THIN = measured(detectability=seen(delay=timedelta(days=150), smallest=None, detects=False))
NO_DATA = measured(sufficient=False, detectability=seen(), n=0)


def test_a_breach_is_breached_even_where_the_detector_is_thin() -> None:
    thin_but_moved = measured(breached=True, detectability=seen(detects=False, smallest=None))
    assert status_of(BREACHED) == status_of(thin_but_moved) == "breached"


def test_a_detector_that_detects_its_minimum_effect_is_watching() -> None:
    assert status_of(WATCHING) == "watching"


def test_a_detector_that_cannot_detect_its_minimum_effect_in_the_window_is_too_thin() -> None:
    assert status_of(THIN) == "too thin"
    never = measured(sufficient=False, detectability=seen(delay=None, smallest=None, detects=False))
    assert status_of(never) == "too thin"  # thin, not merely quiet today


def test_a_slice_without_data_in_the_window_says_no_data() -> None:
    assert status_of(NO_DATA) == "no data"
    assert status_of(measured(sufficient=False)) == "no data"  # a threshold rule, too few


def test_a_threshold_rule_watches_when_it_has_enough_samples() -> None:
    assert status_of(measured()) == "watching"


@pytest.mark.parametrize(
    ("rule", "effect", "expected"),
    [(RISE, 0.05, "+0.05 in ~9 h"), (DROP, 0.3, "−0.3 in ~9 h"), (EITHER, 0.02, "±0.02 in ~9 h")],
)
def test_detects_names_the_minimum_effect_in_the_bad_direction_and_the_delay(
    rule: RuleConfig, effect: float, expected: str
) -> None:
    evaluation = Evaluation(rule, {}, measured(detectability=seen(min_effect=effect)))
    assert detects_text(evaluation) == expected


def test_detects_falls_back_to_the_smallest_change_detected_within_the_window() -> None:
    slow = seen(delay=timedelta(days=3), smallest=0.1234, detects=False)
    assert detects_text(Evaluation(RISE, {}, measured(detectability=slow))) == (
        "≥ 0.12 within window"
    )


def test_detects_says_too_thin_when_no_change_is_detected_within_the_window() -> None:
    assert detects_text(Evaluation(RISE, {"route": "billing"}, THIN)) == "too thin"


def test_a_threshold_rule_has_no_detects_text_and_no_delay() -> None:
    evaluation = Evaluation(COST, {}, measured())
    assert detects_text(evaluation) is None
    assert delay_text(evaluation.measurement) is None


def test_delay_text_is_the_expected_time_or_never() -> None:
    assert delay_text(WATCHING) == "~9 h"
    assert delay_text(measured(detectability=seen(delay=None, detects=False))) == "never"


@pytest.mark.parametrize(
    ("delay", "expected"),
    [
        (None, "never"),
        (timedelta(seconds=20), "< 1 min"),
        (timedelta(minutes=1), "~1 min"),
        (timedelta(minutes=40, seconds=20), "~40 min"),
        (timedelta(minutes=90), "~1.5 h"),
        (timedelta(hours=9, minutes=1), "~9 h"),
        (timedelta(hours=47), "~47 h"),
        (timedelta(days=3), "~3 d"),
        (timedelta(days=12_620.6), "~12,621 d"),
    ],
)
def test_duration_text_rounds_to_the_unit_that_reads(
    delay: timedelta | None, expected: str
) -> None:
    assert duration_text(delay) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.05, "0.05"), (0.3, "0.3"), (0.1234, "0.12"), (0.0456, "0.046"), (1234.5, "1,234")],
)
def test_number_text_keeps_two_significant_figures(value: float, expected: str) -> None:
    assert number_text(value) == expected


@pytest.mark.parametrize(
    ("per_minute", "expected"),
    [(6.0, "6 a minute"), (1.5, "1.5 a minute"), (0.5, "30 an hour"), (2 / 1440, "2 a day")],
)
def test_volume_text_counts_a_minute_an_hour_or_a_day(per_minute: float, expected: str) -> None:
    assert volume_text(per_minute) == expected


def test_rules_with_a_breach_come_first_and_quiet_slices_fold_away() -> None:
    found = [
        Evaluation(COST, {}, measured()),
        Evaluation(RISE, {}, WATCHING),
        Evaluation(RISE, {"route": "billing"}, THIN),
        Evaluation(RISE, {"route": "returns"}, NO_DATA),
        Evaluation(RISE, {"route": "checkout"}, BREACHED),
        Evaluation(RISE, {"route": "faq"}, THIN),
    ]
    regen, cost = group_by_rule(found)
    assert (regen.rule, regen.breached, cost.rule, cost.breached) == ("regen", True, "cost", False)
    assert [e.slice_text for e in regen.shown] == ["route=checkout", "all traffic"]
    assert [e.slice_text for e in regen.folded] == ["route=billing", "route=faq", "route=returns"]
    assert regen.folded_text == "2 slices too thin to detect their minimum effect, 1 with no data"
    assert ([e.slice_text for e in cost.shown], cost.folded) == (["all traffic"], [])


def test_without_a_breach_rules_keep_their_order() -> None:
    found = [Evaluation(RISE, {}, WATCHING), Evaluation(COST, {}, measured())]
    assert [g.rule for g in group_by_rule(found)] == ["regen", "cost"]


@pytest.mark.parametrize(
    ("folded", "expected"),
    [
        ([THIN], "1 slice too thin to detect its minimum effect"),
        ([NO_DATA], "1 slice with no data"),
        ([NO_DATA, NO_DATA], "2 slices with no data"),
    ],
)
def test_the_folded_row_counts_its_slices(folded: list[Measurement], expected: str) -> None:
    [group] = group_by_rule([Evaluation(RISE, {"route": str(i)}, m) for i, m in enumerate(folded)])
    assert group.shown == []
    assert group.folded_text == expected
