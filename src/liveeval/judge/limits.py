"""Rate limits for judge requests: at most N requests, or N tokens, in any 60 seconds.

A token bucket that refills at N per minute lets up to 2N through in some minute
(a full bucket, then a minute of refill). A provider's limit, and the bench, count a
rolling window, so this limiter keeps the log of what it let through and admits a
request only when the last `window_s` seconds have room for it. Time comes from an
injectable clock and waits go through an injectable sleep, so tests never sleep.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable

import anyio

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Grant:
    """One admitted use of a limiter; `settle` can correct its amount afterwards."""

    __slots__ = ("amount", "at")

    def __init__(self, at: float, amount: int) -> None:
        self.at = at
        self.amount = amount


class WindowLimiter:
    """Admits at most `limit` units in any `window_s` seconds; waiters go first come, first served.

    A single request larger than `limit` is admitted alone, into an empty window, rather
    than never.
    """

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._grants: deque[Grant] = deque()
        self._used = 0
        self._lock = anyio.Lock()

    @property
    def used(self) -> int:
        """Units counted in the current window."""
        self._expire(self._clock())
        return self._used

    async def acquire(self, amount: int = 1) -> Grant:
        """Wait until `amount` fits in the window, then count it at the current time."""
        amount = max(0, min(amount, self.limit))
        async with self._lock:
            while True:
                now = self._clock()
                self._expire(now)
                if self._used + amount <= self.limit:
                    grant = Grant(now, amount)
                    self._grants.append(grant)
                    self._used += amount
                    return grant
                await self._sleep(max(self._free_at(amount) - now, 0.0))

    def settle(self, grant: Grant, actual: int) -> None:
        """Count what a request really used instead of what was reserved for it."""
        actual = max(0, actual)
        if grant in self._grants:
            self._used += actual - grant.amount
        grant.amount = actual

    def _expire(self, now: float) -> None:
        while self._grants and self._grants[0].at + self.window_s <= now:
            self._used -= self._grants.popleft().amount

    def _free_at(self, amount: int) -> float:
        """When enough of the oldest grants will have left the window for `amount` to fit."""
        excess = self._used + amount - self.limit
        for grant in self._grants:
            excess -= grant.amount
            if excess <= 0:
                return grant.at + self.window_s
        return self._grants[-1].at + self.window_s if self._grants else self._clock()
