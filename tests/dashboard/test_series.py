"""The dashboard's series read from rollups: the last day cut out of a week's read is what
reading the last day gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liveeval.dashboard import series
from liveeval.model.rollup import Aggregate
from liveeval.stats.quality import ScoreSummary
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from tests.monitor.traffic import Traffic, store_traffic
from tests.store.test_rollups import START, store_mixed


def test_the_hours_since_an_instant_match_reading_from_it(store: Store) -> None:
    store_mixed(store, START, 100, 3)
    with store.writing() as conn:
        refresh_rollups(conn)
    end = START + timedelta(minutes=100)
    with store.reading() as conn:
        _, week = series.hourly(conn, "shop", end - timedelta(days=7), end, "prompt_version")
        for hours in (1, 2):
            at = end - timedelta(hours=hours, minutes=20)
            _, direct = series.hourly(conn, "shop", at, end, "prompt_version")
            assert series.since(week, at).keys() == direct.keys()
            for name, by_hour in direct.items():
                cut = series.since(week, at)[name]
                assert cut.keys() == by_hour.keys()
                assert series.totals({name: cut}) == series.totals({name: by_hour})


HOURS = [START + timedelta(hours=k) for k in range(12)]


def _hour(scores: list[float], interactions: int = 10, errors: int = 0) -> Aggregate:
    return Aggregate(
        interactions=interactions,
        errors=errors,
        scores={"quality": ScoreSummary.of_values(scores)} if scores else {},
    )


def test_a_small_samples_band_stays_on_the_judge_scale() -> None:
    sums = {"all": {HOURS[0]: _hour([1, 5]), HOURS[6]: _hour([4, 5, 5, 4, 5, 4, 5])}}
    chart = series.quality_chart(HOURS, sums, "quality")
    [line] = chart["series"]
    low, high = line["band"]
    assert low[0] == 1.0 and high[0] == 5.0  # t with 1 df: about -22 .. +28, clamped
    assert 4.0 < low[1] < line["values"][1] < high[1] <= 5.0
    assert chart["y"] == {"label": "judge mean", "min": 1.0, "max": 5.0}
    assert line["n"] == [2, 7]


def test_a_binary_rubric_widens_the_axis_to_its_zero() -> None:
    sums = {"all": {HOURS[0]: _hour([0, 0, 1])}}
    chart = series.quality_chart(HOURS, sums, "quality", "p10")
    assert chart["y"]["min"] == 0.0 and chart["y"]["max"] == 5.0
    assert chart["y"]["label"] == "judge p10"


def test_an_all_zero_rate_gets_an_axis_from_zero_to_five_percent() -> None:
    sums = {"all": {HOURS[0]: _hour([], interactions=40), HOURS[7]: _hour([], interactions=8)}}
    chart = series.rate_chart(HOURS, sums, "error")
    assert chart["series"][0]["values"] == [0.0, 0.0]
    assert chart["series"][0]["n"] == [40, 8]
    assert chart["y"] == {
        "label": "share of interactions",
        "min": 0.0,
        "max": series.MIN_SHARE_AXIS,
        "share": True,
    }


def test_a_rate_axis_reaches_just_above_its_largest_value_and_never_past_100_percent() -> None:
    half = {"all": {HOURS[0]: _hour([], interactions=10, errors=5)}}
    everything = {"all": {HOURS[0]: _hour([], interactions=10, errors=10)}}
    assert series.rate_chart(HOURS, half, "error")["y"]["max"] == pytest.approx(0.55)
    assert series.rate_chart(HOURS, everything, "error")["y"]["max"] == 1.0


def test_the_traffic_chart_names_its_axis() -> None:
    chart = series.traffic_chart(HOURS, {"all": {HOURS[0]: _hour([])}})
    assert chart["y"] == {"label": "interactions per hour", "min": 0}


def test_change_markers_label_each_new_prompt_or_model_in_time_order() -> None:
    seen = {
        "prompt_version": {"v1": HOURS[0], "v2": HOURS[5]},
        "model_served": {"chat-a": HOURS[0], "chat-b": HOURS[9]},
    }
    assert series.change_markers(seen) == [
        {"x": int(HOURS[5].timestamp()), "label": "prompt v2"},
        {"x": int(HOURS[9].timestamp()), "label": "model chat-b"},
    ]


def test_change_markers_skip_what_is_present_from_the_first_hour_with_traffic() -> None:
    seen = {"prompt_version": {"v1": HOURS[3]}, "model_served": {"chat-a": HOURS[3]}}
    assert series.change_markers(seen) == []
    assert series.change_markers({"prompt_version": {}, "model_served": {}}) == []


ON = START.replace(minute=0)  # an hour's start


def test_first_seen_reads_each_prompt_and_models_first_hour_in_the_range(store: Store) -> None:
    store_traffic(store, Traffic(prompt_version="v1"), ON, 180, 1, every=10)
    later = ON + timedelta(hours=2, minutes=5)
    store_traffic(store, Traffic(prompt_version="v2", model_served="chat-b"), later, 30, 1, seed=2)
    with store.writing() as conn:
        refresh_rollups(conn)
    with store.reading() as conn:
        seen = series.first_seen(conn, "shop", ON, ON + timedelta(hours=4))
        cut = series.first_seen(conn, "shop", ON + timedelta(hours=3), ON + timedelta(hours=4))
    assert seen["prompt_version"] == {"v1": ON, "v2": ON + timedelta(hours=2)}
    assert seen["model_served"]["chat-b"] == ON + timedelta(hours=2)
    assert series.change_markers(seen) == [
        {"x": int((ON + timedelta(hours=2)).timestamp()), "label": "model chat-b"},
        {"x": int((ON + timedelta(hours=2)).timestamp()), "label": "prompt v2"},
    ]
    assert series.change_markers(cut) == []  # nothing new within the last hour
