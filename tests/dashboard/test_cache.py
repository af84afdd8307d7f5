"""The dashboard's caches: SLIs kept for a while, drift computed in the background."""

from __future__ import annotations

import threading

from liveeval.dashboard.cache import Background, TtlCache


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_recomputes_only_when_stale() -> None:
    clock, calls = Ticker(), []
    cache = TtlCache(30, clock)
    assert cache.get("shop", lambda: calls.append(1) or len(calls)) == 1
    clock.now = 29
    assert cache.get("shop", lambda: calls.append(1) or len(calls)) == 1
    clock.now = 31
    assert cache.get("shop", lambda: calls.append(1) or len(calls)) == 2


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
