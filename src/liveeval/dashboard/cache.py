"""Results the dashboard can show slightly old rather than recompute on every request.

The SLIs change when the monitor ticks (once a minute), so the overview keeps them for
`SLI_TTL_S`. A drift report reads every feature row of two periods and embeds a sample of
texts: seconds at a million interactions. The drift page shows the last report for its
periods and computes a fresh one in the background (one at a time), saying when it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

SLI_TTL_S = 30.0
DRIFT_TTL_S = 600.0


@dataclass
class Entry:
    value: Any
    made_at: float


class TtlCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[Hashable, Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.clock() - entry.made_at < self.ttl_s:
                return entry.value
        value = compute()
        with self._lock:
            self._entries[key] = Entry(value, self.clock())
        return value


class Background:
    """The latest result per key, recomputed in one background thread when stale."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._done: dict[Hashable, Entry] = {}
        self._running: dict[Hashable, Future[Any]] = {}
        self._errors: dict[Hashable, str] = {}
        # re-entrant: a computation that ends at once runs its callback in `latest`
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liveeval-dashboard")

    def latest(
        self, key: Hashable, compute: Callable[[], Any]
    ) -> tuple[Any, float | None, str | None]:
        """(result or None, its age in seconds or None, the last error); starts a
        computation when there is none or it is stale."""
        with self._lock:
            entry = self._done.get(key)
            stale = entry is None or self.clock() - entry.made_at >= self.ttl_s
            if stale and key not in self._running:
                future = self._pool.submit(compute)
                self._running[key] = future
                future.add_done_callback(lambda f: self._finish(key, f))
            error = self._errors.get(key)
        if entry is None:
            return None, None, error
        return entry.value, self.clock() - entry.made_at, error

    def _finish(self, key: Hashable, future: Future[Any]) -> None:
        with self._lock:
            self._running.pop(key, None)
            exc = future.exception()
            if exc is None:
                self._done[key] = Entry(future.result(), self.clock())
                self._errors.pop(key, None)
            else:
                self._errors[key] = str(exc)

    def wait(self, key: Hashable, timeout: float) -> None:
        """For tests: block until the running computation of `key` ends."""
        with self._lock:
            future = self._running.get(key)
        if future is not None:
            future.exception(timeout=timeout)
