"""The rolling-window rate limiter, on a fake clock: it never lets more through than its limit."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveeval.judge.limits import WindowLimiter
from tests.judge.conftest import FakeTime


def most_in_any_window(events: list[tuple[float, int]], window: float = 60.0) -> int:
    """The largest total of amounts admitted in any half-open window [t, t + window)."""
    return max(
        sum(amount for at, amount in events if start <= at < start + window) for start, _ in events
    )


@pytest.mark.anyio
async def test_a_burst_of_concurrent_requests_never_exceeds_the_rpm(fake_time: FakeTime) -> None:
    limiter = WindowLimiter(10, clock=fake_time, sleep=fake_time.sleep)
    admitted: list[tuple[float, int]] = []

    async def request() -> None:
        await limiter.acquire(1)
        admitted.append((fake_time(), 1))

    async with anyio.create_task_group() as tasks:
        for _ in range(35):
            tasks.start_soon(request)
    assert len(admitted) == 35
    assert most_in_any_window(admitted) == 10
    assert [at - 1_000 for at, _ in admitted[::10]] == [0.0, 60.0, 120.0, 180.0]


@pytest.mark.anyio
async def test_requests_are_admitted_at_once_while_the_window_has_room(
    fake_time: FakeTime,
) -> None:
    limiter = WindowLimiter(3, clock=fake_time, sleep=fake_time.sleep)
    for _ in range(3):
        await limiter.acquire(1)
        fake_time.now += 1
    assert fake_time.sleeps == []
    await limiter.acquire(1)
    assert fake_time.sleeps == [57.0]  # until the first leaves the window
    assert limiter.used == 3


@pytest.mark.anyio
async def test_settle_replaces_the_reserved_tokens_with_the_used_ones(
    fake_time: FakeTime,
) -> None:
    limiter = WindowLimiter(1_000, clock=fake_time, sleep=fake_time.sleep)
    grant = await limiter.acquire(800)
    limiter.settle(grant, 300)
    assert limiter.used == 300
    await limiter.acquire(700)  # fits now
    assert fake_time.sleeps == []


@pytest.mark.anyio
async def test_a_request_larger_than_the_limit_goes_alone_into_an_empty_window(
    fake_time: FakeTime,
) -> None:
    limiter = WindowLimiter(100, clock=fake_time, sleep=fake_time.sleep)
    await limiter.acquire(10)
    await limiter.acquire(500)
    assert fake_time.sleeps == [60.0]


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 50),
    arrivals=st.lists(
        st.tuples(st.floats(0, 200, allow_nan=False), st.integers(1, 50)), min_size=1, max_size=80
    ),
)
def test_no_window_of_60_seconds_ever_holds_more_than_the_limit(
    limit: int, arrivals: list[tuple[float, int]]
) -> None:
    time = FakeTime()
    limiter = WindowLimiter(limit, clock=time, sleep=time.sleep)
    admitted: list[tuple[float, int]] = []

    async def run() -> None:
        start = time.now
        for offset, amount in sorted(arrivals):
            time.now = max(time.now, start + offset)
            grant = await limiter.acquire(amount)
            admitted.append((time.now, grant.amount))

    anyio.run(run)
    assert most_in_any_window(admitted) <= limit
    assert len(admitted) == len(arrivals)
