"""server/policy_cache.py: a task's snapshot is kept for refresh_s, recomputed at once when
its kill switches change, and a stale one is served while another request recomputes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liveeval.routing.config import from_mapping
from liveeval.server.policy_cache import PolicyCache
from liveeval.store.database import Store
from liveeval.store.routing import add_kill

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TASK = from_mapping(
    "answer",
    {"default": "a", "arms": [{"name": "a", "model": "m"}, {"name": "b", "model": "n"}]},
)


def test_a_snapshot_is_kept_for_refresh_s_then_recomputed(store: Store) -> None:
    cache = PolicyCache(refresh_s=30)
    first = cache.snapshot(store, "shop", TASK, NOW)
    assert cache.snapshot(store, "shop", TASK, NOW + timedelta(seconds=29)) is first
    later = cache.snapshot(store, "shop", TASK, NOW + timedelta(seconds=30))
    assert later.policy_version > first.policy_version
    assert first.policy_version == int(NOW.timestamp() * 1000)


def test_a_kill_switch_changes_the_snapshot_on_the_next_ask(store: Store) -> None:
    cache = PolicyCache(refresh_s=30)
    first = cache.snapshot(store, "shop", TASK, NOW)
    with store.writing() as conn:
        add_kill(conn, "shop", "answer", "b", "*", None, NOW)
    killed = cache.snapshot(store, "shop", TASK, NOW)
    assert killed.policy_version > first.policy_version
    assert killed.probabilities("*") == {"a": 1.0, "b": 0.0}
    assert cache.snapshot(store, "other", TASK, NOW).probabilities("*")["b"] > 0.0


def test_a_stale_snapshot_is_served_while_another_request_recomputes(store: Store) -> None:
    cache = PolicyCache(refresh_s=30)
    first = cache.snapshot(store, "shop", TASK, NOW)
    later = NOW + timedelta(minutes=5)
    cache._lock.acquire()  # another request is recomputing
    try:
        assert cache.snapshot(store, "shop", TASK, later) is first
    finally:
        cache._lock.release()
    assert cache.snapshot(store, "shop", TASK, later) is not first
