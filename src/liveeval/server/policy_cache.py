"""Each task's policy snapshot, per process, recomputed when it is older than
`routing.refresh_s` or when the task's kill switches changed (read on every ask: a kill
acts on the next ask in every server process). While one request recomputes a snapshot
that is only old, the others are answered with it as it was, rather than wait."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from liveeval.routing.config import TaskConfig
from liveeval.routing.snapshot import Snapshot
from liveeval.routing.stored import compute_snapshot
from liveeval.store.database import Store
from liveeval.store.routing import active_kills


@dataclass(frozen=True, slots=True)
class _Entry:
    snapshot: Snapshot
    computed_at: datetime
    kills: frozenset[tuple[str, str]]


class PolicyCache:
    def __init__(self, refresh_s: float) -> None:
        self._refresh_s = refresh_s
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self._last_version = 0

    def snapshot(self, store: Store, project: str, config: TaskConfig, now: datetime) -> Snapshot:
        """The task's current snapshot in `project`."""
        key = (project, config.task)
        with store.reading() as conn:
            kills = frozenset((k.arm, k.slice) for k in active_kills(conn, project, config.task))
        entry = self._entries.get(key)
        current = entry is not None and entry.kills == kills
        if entry is not None and current and self._fresh(entry, now):
            return entry.snapshot
        if entry is not None and current and not self._lock.acquire(blocking=False):
            return entry.snapshot  # stale by age only, and being recomputed: no one waits
        if entry is None or not current:
            self._lock.acquire()
        try:
            entry = self._entries.get(key)
            if entry is not None and entry.kills == kills and self._fresh(entry, now):
                return entry.snapshot
            version = self._next_version(now)
            with store.reading() as conn:
                snapshot = compute_snapshot(conn, project, config, now, version)
            self._entries[key] = _Entry(snapshot, now, kills)
            return snapshot
        finally:
            self._lock.release()

    def forget(self, project: str, task: str) -> None:
        """Recompute the task's snapshot on the next ask (a kill switch changed)."""
        self._entries.pop((project, task), None)

    def _fresh(self, entry: _Entry, now: datetime) -> bool:
        age = (now - entry.computed_at).total_seconds()
        return 0 <= age < self._refresh_s

    def _next_version(self, now: datetime) -> int:
        """Milliseconds since the epoch of the computation, strictly increasing."""
        self._last_version = max(int(now.timestamp() * 1000), self._last_version + 1)
        return self._last_version
