"""The dashboard's caches: rollup figures kept for a while, drift computed in the background."""

from __future__ import annotations

import threading

from liveeval.dashboard.cache import Background, Recent


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_recent_answers_with_the_kept_value_and_refreshes_it_in_the_background() -> None:
    clock, calls = Ticker(), []

    def count() -> int:
        calls.append(1)
        return len(calls)

    recent = Recent(30, clock)
    assert recent.get("shop", count) == 1  # never computed: computed in the request
    clock.now = 29
    assert recent.get("shop", count) == 1
    assert len(calls) == 1
    clock.now = 31
    assert recent.get("shop", count) == 1  # stale: answered at once, recomputed behind
    recent.wait("shop", 5)
    assert len(calls) == 2
    assert recent.get("shop", count) == 2
    assert recent.get("other", count) == 3  # keys are apart


def test_recent_keeps_the_last_value_when_a_refresh_fails() -> None:
    clock = Ticker()
    recent = Recent(10, clock)
    assert recent.get("k", lambda: "first") == "first"
    clock.now = 11

    def broken() -> str:
        raise ValueError("the store is locked")

    assert recent.get("k", broken) == "first"
    recent.wait("k", 5)
    assert recent.get("k", broken) == "first"


def test_recent_drops_the_least_recently_used_key_beyond_its_size() -> None:
    recent = Recent(30, Ticker(), max_keys=2)
    recent.get("a", lambda: 1)
    recent.get("b", lambda: 2)
    recent.get("a", lambda: 99)  # a is used again: b is now the oldest
    recent.get("c", lambda: 3)
    assert recent.get("b", lambda: "again") == "again"
    assert recent.get("a", lambda: 99) == 99  # a went when b came back


def test_background_answers_at_once_then_with_the_result_and_its_age() -> None:
    clock, release = Ticker(), threading.Event()
    jobs = Background(600, clock)

    def slow() -> str:
        release.wait(5)
        return "report"

    assert jobs.latest("k", slow) == (None, None, None)  # computing
    assert jobs.latest("k", slow) == (None, None, None)  # not started twice
    release.set()
    jobs.wait("k", 5)
    clock.now = 60
    assert jobs.latest("k", slow) == ("report", 60, None)


def test_background_keeps_the_error_and_the_last_good_result() -> None:
    clock = Ticker()
    jobs = Background(10, clock)
    jobs.latest("k", lambda: "first")
    jobs.wait("k", 5)
    clock.now = 11

    def broken() -> str:
        raise ValueError("no features in the window")

    jobs.latest("k", broken)  # stale: recompute, which fails
    jobs.wait("k", 5)
    value, age, error = jobs.latest("k", broken)
    assert (value, age, error) == ("first", 11, "no features in the window")


def test_background_drops_the_least_recently_asked_result_beyond_its_size() -> None:
    jobs = Background(600, Ticker(), max_keys=2)
    for key in ("a", "b"):
        jobs.latest(key, lambda key=key: f"report {key}")
        jobs.wait(key, 5)
    assert jobs.latest("a", lambda: "again")[0] == "report a"  # a is asked again: b is older
    jobs.latest("c", lambda: "report c")
    jobs.wait("c", 5)
    assert jobs.latest("b", lambda: "again") == (None, None, None)  # dropped: computing again
    assert jobs.latest("a", lambda: "again")[0] == "report a"
