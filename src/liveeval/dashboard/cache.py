"""Results the dashboard can show slightly old rather than recompute on every request.

SLIs and the rollups behind the charts change when the monitor ticks (once a minute), so
the pages that read them (overview, quality, experiments, judge) keep what they computed
for `RECENT_TTL_S` and then refresh it in the background. A drift report reads every
feature row of two periods and embeds a sample of texts: seconds at a million
interactions. The drift page shows the last report for its periods and computes a fresh
one in the background (one at a time), saying when it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
RECENT_TTL_S = 30.0
DRIFT_TTL_S = 600.0


@dataclass
class Entry:
    value: Any
    made_at: float


class Recent:
    """Page figures kept for `ttl_s`. Within it a request gets the kept value; after it
    the kept value still answers at once while one background thread recomputes it (one
    computation per key at a time). Only a key never computed makes its request wait.
    A failed recomputation keeps the last value (and is logged); at most `max_keys` are
    kept, the least recently used dropped first."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 64
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_keys = max_keys
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._running: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liveeval-recent")

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            refresh: Future[Any] | None = None
            if entry is not None:
                self._entries.move_to_end(key)
                if self.clock() - entry.made_at >= self.ttl_s and key not in self._running:
                    refresh = self._running[key] = self._pool.submit(compute)
        if entry is None:
            value = compute()  # never computed: this request waits for it
            self._keep(key, value)
            return value
        if refresh is not None:  # outside the lock: a finished one calls back at once
            refresh.add_done_callback(lambda f: self._finish(key, f))
        return entry.value

    def _keep(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = Entry(value, self.clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)

    def _finish(self, key: Hashable, future: Future[Any]) -> None:
        with self._lock:
            self._running.pop(key, None)
        exc = future.exception()
        if exc is not None:
            log.warning("dashboard: recomputing %r failed: %s", key, exc)
            return
        self._keep(key, future.result())

    def close(self) -> None:
        """Wait for the running computation, if any, and start no more."""
        self._pool.shutdown(wait=True)

    def wait(self, key: Hashable, timeout: float) -> None:
        """For tests: block until the running recomputation of `key` ends."""
        with self._lock:
            future = self._running.get(key)
        if future is not None:
            future.exception(timeout=timeout)


class Background:
    """The latest result per key, recomputed in one background thread when stale. At
    most `max_keys` results (and errors) are kept, the least recently asked dropped
    first: a drift report's key holds the periods asked, which any URL can vary."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 16
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_keys = max_keys
        self._done: OrderedDict[Hashable, Entry] = OrderedDict()
        self._running: dict[Hashable, Future[Any]] = {}
        self._errors: OrderedDict[Hashable, str] = OrderedDict()
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
            if entry is not None:
                self._done.move_to_end(key)
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
                self._done.move_to_end(key)
                self._errors.pop(key, None)
            else:
                self._errors[key] = str(exc)
                self._errors.move_to_end(key)
            for kept in (self._done, self._errors):
                while len(kept) > self.max_keys:
                    kept.popitem(last=False)

    def close(self) -> None:
        """Wait for the running computation, if any, and start no more."""
        self._pool.shutdown(wait=True)

    def wait(self, key: Hashable, timeout: float) -> None:
        """For tests: block until the running computation of `key` ends."""
        with self._lock:
            future = self._running.get(key)
        if future is not None:
            future.exception(timeout=timeout)
