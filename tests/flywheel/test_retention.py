"""The retention job (flywheel/retention.py): batches until done, per-project limits, once
per cluster through the "retention" lease, and a thread that runs it on a schedule.

Data is the scenario of tests/store/test_retention.py, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.config.retention import RetentionConfig
from liveeval.flywheel.retention import LEASE, Retention, RetentionThread
from liveeval.model import Signal, SignalKind
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.judge_cache import CachedVerdict, remember
from liveeval.store.retention import Purged
from liveeval.store.schema import interactions, judge_cache, scheduler_leases, scores, signals
from liveeval.store.signals import record_signal
from tests.conftest import Clock, wait_for
from tests.store.test_retention import (
    CUTOFF,
    NOW,
    full_interaction,
    purged_at,
    rows,
    stored_history,
)
from tests.telemetry import trace_id


def settings(**retention: Any) -> Settings:
    return Settings(retention=RetentionConfig(**retention))


def job(store: Store, holder: str = "a", clock: Clock | None = None, **retention: Any) -> Retention:
    config = {"interactions_days": 30, **retention}
    return Retention(store, settings(**config), holder=holder, clock=clock or Clock(NOW))


def purged_ids(store: Store) -> set[int]:
    return {iid for iid, at in purged_at(store).items() if at is not None}


def test_a_run_purges_every_project_past_its_limit_in_short_batches(store: Store) -> None:
    stored_history(store, old_count=5)
    kept_scores = rows(store, scores, "score_id")
    old = {r["interaction_id"] for r in rows(store, interactions) if r["start_at"] < CUTOFF}

    done = job(store, batch_size=2).run(NOW)

    assert done is not None and done.complete
    assert done.cutoffs == {"shop": CUTOFF, "other": CUTOFF}
    assert done.projects["shop"].interactions == 6  # 5 old + the old one of the mixed trace
    assert done.projects["other"].interactions == 1
    # the lease; shop 2+2+2+0; other 1; the judge cache 1
    assert done.transactions == 7
    assert len(old) == 7
    assert purged_ids(store) == old
    assert rows(store, scores, "score_id") == kept_scores


def test_a_project_limit_overrides_the_default_and_none_keeps_forever(store: Store) -> None:
    history = stored_history(store)
    longer = job(store, projects={"shop": 31, "other": "none"})

    done = longer.run(NOW)

    assert done is not None
    assert done.cutoffs == {"shop": CUTOFF - timedelta(days=1)}
    assert purged_ids(store) == {history.mixed_old}  # 2 days before CUTOFF; `old` is 1 µs


def test_without_a_limit_nothing_is_purged(store: Store) -> None:
    stored_history(store)
    done = Retention(store, Settings(), clock=Clock(NOW)).run(NOW)
    assert done is not None
    assert (done.projects, done.judge_cache) == ({}, 0)
    assert purged_ids(store) == set()


def test_a_second_run_finds_nothing_more_but_late_feedback(store: Store) -> None:
    history = stored_history(store)
    retention = job(store)
    first = retention.run(NOW)
    again = retention.run(NOW)
    with store.writing() as conn:
        late = Signal("shop", SignalKind.COMMENT, NOW, history.old, text="still me, alice")
        record_signal(conn, late, NOW)
    third = retention.run(NOW)

    assert first is not None and again is not None and third is not None
    assert first.purged.interactions == 3
    assert again.purged == Purged()
    assert third.purged == Purged(signals=1)
    texts = [row["text"] for row in rows(store, signals) if row["interaction_id"] == history.old]
    assert texts == [None] * 4


def test_a_second_process_without_the_lease_does_nothing_until_it_expires(store: Store) -> None:
    stored_history(store)
    clock = Clock(NOW)
    first, second = job(store, "a", clock), job(store, "b", clock)
    assert first.run(NOW) is not None
    with store.writing() as conn:
        late = full_interaction("shop", trace_id(), CUTOFF - timedelta(days=5), 7)
        upsert_interactions(conn, [late], NOW)
    before = purged_ids(store)

    assert second.run(NOW) is None
    assert purged_ids(store) == before

    clock.now = NOW + first.ttl  # the holder stopped renewing: its lease ran out
    taken = second.run(NOW)
    assert taken is not None and taken.purged.interactions == 1
    old = {r["interaction_id"] for r in rows(store, interactions) if r["start_at"] < CUTOFF}
    assert purged_ids(store) == old


def test_a_dry_plan_counts_what_the_run_then_does_and_changes_nothing(store: Store) -> None:
    stored_history(store)
    with store.writing() as conn:
        for at in (CUTOFF - timedelta(days=40), NOW):
            remember(conn, f"{at:%Y%m%d}".ljust(64, "0"), verdict(at))
    snapshot = {t.name: rows(store, t, t.c[0].name) for t in (interactions, signals)}
    retention = job(store)

    plan = retention.plan(NOW)

    assert {t.name: rows(store, t, t.c[0].name) for t in (interactions, signals)} == snapshot
    with store.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(scheduler_leases)).scalar() == 0
    done = retention.run(NOW)
    assert done is not None
    assert plan.dry_run and plan.transactions == 0
    assert (plan.projects, plan.judge_cache) == (done.projects, done.judge_cache) != ({}, 0)


def verdict(at: Any) -> CachedVerdict:
    return CachedVerdict(5.0, None, "it quotes the user", "gpt-4o", 10, 2, 0.001, at)


def test_the_shared_judge_cache_follows_the_shortest_limit_and_not_a_one_project_run(
    store: Store,
) -> None:
    with store.writing() as conn:
        for n, age in enumerate((timedelta(days=11), timedelta(days=9))):
            remember(conn, f"{n:064x}", verdict(NOW - age))
    retention = job(store, interactions_days=None, projects={"shop": 10, "audit": 365})

    one = retention.run(NOW, project="shop")
    everything = retention.run(NOW)

    assert one is not None and everything is not None
    assert (one.judge_cache, everything.judge_cache) == (0, 1)
    left = [row["created_at"] for row in rows(store, judge_cache, "created_at")]
    assert left == [NOW - timedelta(days=9)]


def test_an_interrupted_run_stops_before_its_next_batch(store: Store) -> None:
    stored_history(store)
    retention = job(store)
    retention.interrupt()
    done = retention.run(NOW)
    assert done is not None and not done.complete
    assert purged_ids(store) == set()


def test_the_thread_runs_on_its_schedule_and_gives_the_lease_back_when_stopped(
    store: Store,
) -> None:
    history = stored_history(store)
    thread = RetentionThread(job(store, interval_s=3600), clock=Clock(NOW))
    thread.start()
    try:
        wait_for(lambda: history.old in purged_ids(store))
    finally:
        thread.stop()
    with store.reading() as conn:
        held = conn.execute(
            sa.select(scheduler_leases.c.holder).where(scheduler_leases.c.name == LEASE)
        ).all()
    assert held == []
    assert purged_ids(store) == {history.old, history.mixed_old, history.other_project}
