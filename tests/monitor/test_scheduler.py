"""The monitor's tick end to end: stored traffic → rollups → rules → alerts → notifiers
(a real local HTTP receiver standing in for Slack, PagerDuty and a webhook)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from liveeval.config import Settings
from liveeval.model import Signal, SignalKind
from liveeval.monitor.evaluation import evaluate_project
from liveeval.monitor.rules import Evaluation
from liveeval.monitor.scheduler import Monitor
from liveeval.store.alerts import (
    AlertFilter,
    active_silences,
    list_alerts,
    notification_counts,
    notifications_of,
    silence_rule,
)
from liveeval.store.database import Store
from liveeval.store.rollups import HOUR as HOUR_S
from liveeval.store.rollups import MINUTE as MINUTE_S
from liveeval.store.signals import record_signal
from tests.monitor.receiver import Receiver, Reply, run_receiver
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import T0

NEW_MODEL = "gpt-4o-2024-11-20"
HOUR = timedelta(hours=1)
DEGRADED = Traffic(
    model_served=NEW_MODEL,
    language="de",
    regenerated=0.5,  # strong enough to fire at once, past the pending period
    score=lambda rng: rng.choice((1, 2, 3)),
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as found:
        yield found


def settings_for(receiver: Receiver, **monitor: Any) -> Settings:
    return Settings.model_validate(
        {
            "monitor": {
                "default_rules": False,
                "rules": [
                    {
                        "name": "regen",
                        "metric": "regenerated_rate",
                        "slice_by": ["all", "model_served"],
                        "window": "1h",
                        "baseline": "2d",
                        "threshold": 0.05,
                        "severity": "critical",
                    },
                    {
                        "name": "judge",
                        "metric": "judge_mean",
                        "slice_by": ["model_served"],
                        "window": "1h",
                        "baseline": "2d",
                        "threshold": 0.3,
                    },
                ],
                "notifiers": [
                    {"name": "hook", "type": "webhook", "url": f"{receiver.url}/hook"},
                    {
                        "name": "pd",
                        "type": "pagerduty",
                        "routing_key": "R0UT1NG",
                        "events_url": f"{receiver.url}/pd",
                        "min_severity": "critical",
                    },
                ],
                "public_url": "https://liveeval.example",
                **monitor,
            }
        }
    )


def baseline_and_incident(store: Store) -> None:
    store_traffic(store, Traffic(), T0 - timedelta(days=2), 2 * 1440, 60, seed=1, every=60)
    store_traffic(store, Traffic(), T0, 60, 3, seed=2)
    store_traffic(store, DEGRADED, T0, 60, 2, seed=3)


def bodies(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.requests if r.path == path]


def test_an_incident_fires_alerts_that_name_the_slice_and_reach_every_notifier(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    tick = Monitor(store, settings_for(receiver)).tick(T0 + HOUR)
    assert tick is not None
    fired = {(c.alert.rule, tuple(c.alert.slice.items())) for c in tick.changes}
    assert ("regen", ()) in fired
    assert ("regen", (("model_served", NEW_MODEL),)) in fired
    assert ("judge", (("model_served", NEW_MODEL), ("score", "helpfulness"))) in fired
    # The healthy model stays quiet: its regeneration rate and scores did not move.
    assert not any(dict(s).get("model_served") == "gpt-4o-2024-08-06" for _, s in fired)
    hooks = bodies(receiver, "/hook")
    assert len(hooks) == len(tick.changes) == tick.delivered.sent - len(bodies(receiver, "/pd"))
    by_slice = {(h["rule"], h["slice"].get("model_served")): h for h in hooks}
    regen = by_slice[("regen", NEW_MODEL)]
    assert regen["state"] == "firing"
    assert NEW_MODEL in regen["summary"] and "regenerated_rate rose" in regen["summary"]
    assert regen["link"].startswith("https://liveeval.example/ui/alerts/")
    # PagerDuty hears only the critical rule, as a trigger deduplicated by fingerprint.
    pages = bodies(receiver, "/pd")
    assert {p["event_action"] for p in pages} == {"trigger"}
    assert len(pages) == sum(1 for c in tick.changes if c.alert.rule == "regen")
    assert all(p["routing_key"] == "R0UT1NG" for p in pages)


@pytest.mark.parametrize(
    "public_url", ["https://liveeval.example/", "https://liveeval.example/ui/"]
)
def test_the_webhook_link_opens_the_alerts_page_on_the_dashboard(
    store: Store, receiver: Receiver, public_url: str
) -> None:
    baseline_and_incident(store)
    tick = Monitor(store, settings_for(receiver, public_url=public_url)).tick(T0 + HOUR)
    assert tick is not None and tick.changes
    with store.reading() as conn:
        ids = {a.fingerprint: a.alert_id for a in list_alerts(conn, AlertFilter("shop"))}
    hooks = bodies(receiver, "/hook")
    assert hooks
    for hook in hooks:
        assert hook["link"] == f"https://liveeval.example/ui/alerts/{ids[hook['fingerprint']]}"


def test_a_silenced_rule_still_fires_and_is_stored_but_sends_nothing_until_the_silence_ends(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    with store.writing() as conn:
        silence_rule(conn, "shop", "regen", T0 + 2 * HOUR, "al", T0)
    tick = Monitor(store, settings_for(receiver)).tick(T0 + HOUR)
    assert tick is not None
    assert {c.alert.rule for c in tick.changes} == {"regen", "judge"}
    with store.reading() as conn:
        stored = {a.rule for a in list_alerts(conn, AlertFilter("shop", "firing"))}
    assert stored == {"regen", "judge"}  # evaluated and stored
    assert {h["rule"] for h in bodies(receiver, "/hook")} == {"judge"}  # only judge sent
    assert bodies(receiver, "/pd") == []  # regen is the only critical rule
    with store.reading() as conn:
        assert active_silences(conn, "shop", T0 + HOUR).keys() == {"regen"}
        assert active_silences(conn, "shop", T0 + 2 * HOUR) == {}


def test_a_breach_that_continues_updates_the_alert_without_notifying_again(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    monitor = Monitor(store, settings_for(receiver))
    first = monitor.tick(T0 + HOUR)
    assert first is not None and first.changes
    sent = len(receiver.requests)
    again = monitor.tick(T0 + HOUR + timedelta(minutes=1))
    assert again is not None
    assert {c.action for c in again.changes} == {"update"}
    assert len(receiver.requests) == sent
    with store.reading() as conn:
        firing = list_alerts(conn, AlertFilter("shop", "firing"))
    assert len(firing) == len(first.changes)  # deduplicated: no second alert per slice


def test_recovery_resolves_the_alert_and_pagerduty_gets_a_resolve_with_the_same_key(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    monitor = Monitor(store, settings_for(receiver))
    monitor.tick(T0 + HOUR)
    # The next hour the new model behaves like the old one.
    healthy_new = Traffic(model_served=NEW_MODEL, language="de")
    store_traffic(store, Traffic(), T0 + HOUR, 60, 3, seed=4)
    store_traffic(store, healthy_new, T0 + HOUR, 60, 2, seed=5)
    tick = monitor.tick(T0 + 2 * HOUR)
    assert tick is not None
    resolved = [c for c in tick.changes if c.action == "resolve"]
    assert {c.alert.rule for c in resolved} >= {"regen"}
    pages = bodies(receiver, "/pd")
    triggers = {p["dedup_key"] for p in pages if p["event_action"] == "trigger"}
    resolves = {p["dedup_key"] for p in pages if p["event_action"] == "resolve"}
    assert resolves and resolves <= triggers
    hooks = [h for h in bodies(receiver, "/hook") if h["state"] == "resolved"]
    assert len(hooks) == len(resolved)


def test_after_a_resolve_the_same_slice_stays_quiet_for_the_cooldown(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    monitor = Monitor(store, settings_for(receiver))
    monitor.tick(T0 + HOUR)
    store_traffic(store, Traffic(), T0 + HOUR, 60, 5, seed=4)
    resolved = monitor.tick(T0 + 2 * HOUR)
    assert resolved is not None
    assert any(c.action == "resolve" and not c.alert.slice for c in resolved.changes)
    store_traffic(store, DEGRADED, T0 + 2 * HOUR, 10, 12, seed=6)
    store_traffic(store, Traffic(), T0 + 2 * HOUR, 10, 3, seed=7)
    within = monitor.tick(T0 + 2 * HOUR + timedelta(minutes=10))
    assert within is not None
    overall = [c for c in within.changes if c.alert.rule == "regen" and not c.alert.slice]
    assert overall == []  # resolved at 14:00; cooldown 30 min: no new trigger at 14:10
    store_traffic(store, DEGRADED, T0 + 2 * HOUR + timedelta(minutes=10), 25, 12, seed=8)
    after = monitor.tick(T0 + 2 * HOUR + timedelta(minutes=35))
    assert after is not None
    again = [c for c in after.changes if c.alert.rule == "regen" and not c.alert.slice]
    assert [c.action for c in again] == ["trigger"]  # the same breach, once the cooldown is over


def test_a_failing_notifier_is_retried_on_later_ticks_and_the_alert_is_not_lost(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    settings = settings_for(
        receiver, notifiers=[{"name": "hook", "type": "webhook", "url": f"{receiver.url}/hook"}]
    )
    monitor = Monitor(store, settings)
    outage = [Reply(503)] * 50
    receiver.script(*outage)
    first = monitor.tick(T0 + HOUR)
    assert first is not None and first.delivered.sent == 0
    assert first.delivered.retrying == len(first.changes) > 0
    with store.reading() as conn:
        assert notification_counts(conn) == {"pending": len(first.changes)}
    receiver.replies.clear()  # the receiver is back
    # Retries wait (30 s, doubling): a tick right after sends nothing, a later one sends all.
    early = monitor.tick(T0 + HOUR + timedelta(seconds=10))
    assert early is not None and early.delivered.sent == 0
    later = monitor.tick(T0 + HOUR + timedelta(minutes=2))
    assert later is not None and later.delivered.sent == len(first.changes)
    delivered = [h for h in bodies(receiver, "/hook")]
    assert len({h["fingerprint"] for h in delivered}) == len(first.changes)
    with store.reading() as conn:
        alert = list_alerts(conn, AlertFilter("shop"))[0]
        (note,) = notifications_of(conn, alert.alert_id or 0)
    assert note["state"] == "sent" and note["attempts"] == 2


def test_a_notifier_that_refuses_the_event_is_marked_dead_with_the_reason(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    settings = settings_for(
        receiver, notifiers=[{"name": "hook", "type": "webhook", "url": f"{receiver.url}/hook"}]
    )
    receiver.script(*[Reply(400, b"bad event")] * 50)
    tick = Monitor(store, settings).tick(T0 + HOUR)
    assert tick is not None and tick.delivered.dead == len(tick.changes) > 0
    with store.reading() as conn:
        alert = list_alerts(conn, AlertFilter("shop"))[0]
        (note,) = notifications_of(conn, alert.alert_id or 0)
    assert note["state"] == "dead" and "400" in note["last_error"]


def test_only_one_monitor_ticks_at_a_time_and_another_takes_over_when_its_lease_expires(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    settings = settings_for(receiver)
    one, two = Monitor(store, settings, holder="one"), Monitor(store, settings, holder="two")
    assert one.tick(T0 + HOUR) is not None
    assert two.tick(T0 + HOUR + timedelta(seconds=30)) is None
    assert one.tick(T0 + HOUR + timedelta(minutes=1)) is not None
    # `one` died: after its lease (3 intervals, at least 2 minutes) `two` takes over.
    assert two.tick(T0 + HOUR + timedelta(minutes=5)) is not None


def test_too_few_samples_neither_fire_nor_resolve(store: Store, receiver: Receiver) -> None:
    store_traffic(store, Traffic(), T0 - timedelta(days=2), 2 * 1440, 60, seed=1, every=60)
    store_traffic(store, DEGRADED, T0, 10, 1, seed=3)  # 10 interactions: below 30
    tick = Monitor(store, settings_for(receiver)).tick(T0 + HOUR)
    assert tick is not None and tick.changes == []


def test_a_step_down_in_judge_scores_is_caught_minutes_after_it_starts(
    store: Store, receiver: Receiver
) -> None:
    store_traffic(store, Traffic(judged=1.0), T0 - timedelta(days=1), 1440, 20, seed=1, every=60)
    store_traffic(store, Traffic(judged=1.0), T0, 40, 2, seed=2)  # 40 quiet minutes
    worse = Traffic(judged=1.0, score=lambda rng: rng.choice((2, 3, 3, 4)))
    store_traffic(store, worse, T0 + timedelta(minutes=40), 20, 2, seed=3)
    settings = settings_for(
        receiver,
        default_rules=False,
        rules=[{"name": "step", "metric": "judge_step", "window": "1h", "baseline": "1d"}],
    )
    tick = Monitor(store, settings).tick(T0 + HOUR)
    assert tick is not None
    (change,) = tick.changes
    step_at = change.alert.details["step_at"]
    assert "helpfulness scores stepped down at" in change.alert.summary
    assert f"{T0:%Y-%m-%d}T12:4" in step_at  # within minutes of 12:40, not at 12:00


def test_judge_scores_without_a_step_do_not_alarm(store: Store, receiver: Receiver) -> None:
    store_traffic(store, Traffic(judged=1.0), T0 - timedelta(days=1), 1440, 20, seed=1, every=60)
    store_traffic(store, Traffic(judged=1.0), T0, 60, 2, seed=2)
    settings = settings_for(
        receiver,
        default_rules=False,
        rules=[{"name": "step", "metric": "judge_step", "window": "1h", "baseline": "1d"}],
    )
    tick = Monitor(store, settings).tick(T0 + HOUR)
    assert tick is not None and tick.changes == [] and tick.evaluations == 1


def test_late_signals_in_buckets_read_on_an_earlier_tick_count_on_the_next(
    store: Store, receiver: Receiver
) -> None:
    baseline = store_traffic(store, Traffic(), T0 - timedelta(days=2), 2 * 1440, 60, every=60)
    store_traffic(store, Traffic(), T0, 60, 3, seed=2)
    store_traffic(store, DEGRADED, T0, 60, 2, seed=3)
    monitor = Monitor(store, settings_for(receiver))
    first = monitor.tick(T0 + HOUR)
    assert first is not None
    assert any(c.alert.rule == "regen" and not c.alert.slice for c in first.changes)
    # Regenerations reported late for a quarter of the baseline: its rate now exceeds the
    # window's, so the whole-traffic alert resolves, though its buckets were read before.
    with store.writing() as conn:
        for iid in baseline[::4]:
            record_signal(conn, Signal("shop", SignalKind.REGENERATED, T0, interaction_id=iid), T0)
    second = monitor.tick(T0 + HOUR + timedelta(seconds=30))
    assert second is not None
    assert any(c.action == "resolve" and c.alert.rule == "regen" and not c.alert.slice
               for c in second.changes)  # fmt: skip


def _measured(evaluations: list[Evaluation]) -> list[tuple[Any, ...]]:
    return sorted(
        (e.rule.name, sorted(e.slice.items()), e.measurement.value, e.measurement.baseline,
         e.measurement.n, e.measurement.baseline_n, e.measurement.breached)
        for e in evaluations
    )  # fmt: skip


def test_the_bucket_cache_keeps_only_what_the_last_tick_read(
    store: Store, receiver: Receiver
) -> None:
    baseline_and_incident(store)
    settings = settings_for(receiver)
    monitor = Monitor(store, settings)
    # Half past: the window and the baseline have ragged edges, read minute by minute.
    assert monitor.tick(T0 + HOUR + timedelta(minutes=30)) is not None
    assert any(grain == MINUTE_S for _, grain, _ in monitor.buckets.buckets)
    # On the hour the ranges are whole hours: the minutes read before are not kept.
    now = T0 + 3 * HOUR
    assert monitor.tick(now) is not None
    kept = monitor.buckets.buckets.keys() | monitor.buckets.sums.keys()
    oldest = now - HOUR - timedelta(days=2)  # the baseline's start (window 1h, baseline 2d)
    assert kept and all(grain == HOUR_S and oldest <= at < now for _, grain, at in kept)
    assert len(monitor.buckets.buckets) <= 49  # 1 window hour + 48 baseline hours
    assert len(monitor.buckets.hour_runs) == 1  # the baseline, summed
    # What the cache answers is what the store says.
    rules = settings.monitor.active_rules()
    with store.reading() as conn:
        cached = evaluate_project(conn, "shop", rules, settings.monitor.drift, now, monitor.buckets)
        fresh = evaluate_project(conn, "shop", rules, settings.monitor.drift, now)
    assert _measured(cached) == _measured(fresh)
