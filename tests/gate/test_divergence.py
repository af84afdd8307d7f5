"""Offline-vs-online divergence: the series per release, the persistence rule, and the
alert it raises through the outbox on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from liveeval.gate.divergence import (
    ADVICE,
    RULE,
    DivergenceConfig,
    OnlinePoint,
    detect_divergence,
    divergence_series,
    divergence_to_dict,
    online_point,
    watch_divergence,
)
from liveeval.model.regression import OfflinePoint
from liveeval.stats.quality import ScoreSummary
from liveeval.store.alerts import firing_alerts, list_alerts
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from liveeval.store.schema import notifications
from tests.monitor.traffic import Traffic, store_traffic
from tests.telemetry import T0

VERSIONS = ("v1", "v2", "v3", "v4")


def offline(version: str, day: int, pass_rate: float = 0.95) -> OfflinePoint:
    return OfflinePoint(version, T0 + timedelta(days=day), pass_rate, None, f"snap-{version}")


def online(version: str, bad_share: float, judged: int = 100, level: float = 0.8) -> OnlinePoint:
    return OnlinePoint(version, judged, 1 + 4 * level, level, bad_share)


def test_three_releases_that_pass_offline_and_fail_live_are_a_persistent_divergence() -> None:
    runs = [offline(v, k) for k, v in enumerate(VERSIONS)]
    live = {"v1": online("v1", 0.05), **{v: online(v, 0.3) for v in VERSIONS[1:]}}
    series = divergence_series(runs, live)
    assert [p.diverged for p in series] == [False, True, True, True]
    found = detect_divergence(series, "helpfulness")
    assert found.decided and found.persistent
    assert found.considered == ["v2", "v3", "v4"]
    assert found.summary == (
        f"{ADVICE}: over the last 3 releases (v2, v3, v4) the golden set passed 95% "
        "while 30% of judged live answers were bad (helpfulness)"
    )


def test_one_agreeing_release_among_the_last_three_is_not_persistent() -> None:
    runs = [offline(v, k) for k, v in enumerate(VERSIONS)]
    live = {"v1": online("v1", 0.3), "v2": online("v2", 0.3)}
    live |= {"v3": online("v3", 0.1), "v4": online("v4", 0.3)}
    found = detect_divergence(divergence_series(runs, live))
    assert found.decided and not found.persistent


def test_releases_without_enough_judged_traffic_are_skipped_not_counted() -> None:
    runs = [offline(v, k) for k, v in enumerate(VERSIONS)]
    live = {v: online(v, 0.3) for v in ("v1", "v2", "v3")} | {"v4": online("v4", 0.9, judged=5)}
    series = divergence_series(runs, live)
    assert series[-1].reason == "only 5 judged live answers, need 30"
    found = detect_divergence(series)
    assert found.considered == ["v1", "v2", "v3"] and found.persistent
    undecided = detect_divergence(divergence_series(runs, {"v4": online("v4", 0.3)}))
    assert not undecided.decided and not undecided.persistent
    assert undecided.summary == "1 release(s) with judged live traffic, need 3 to decide"


def test_a_wide_gap_diverges_even_below_the_high_pass_rate() -> None:
    runs = [OfflinePoint(v, T0 + timedelta(days=k), 0.8, 0.85, "s") for k, v in enumerate("abc")]
    live = {v: online(v, bad_share=0.1, level=0.5) for v in "abc"}
    series = divergence_series(runs, live)
    assert [p.gap for p in series] == pytest.approx([0.35] * 3)
    assert all(p.diverged for p in series)
    assert detect_divergence(series).persistent
    lenient = DivergenceConfig(max_gap=0.4)
    assert not detect_divergence(divergence_series(runs, live, lenient), config=lenient).persistent


def test_the_latest_run_of_a_release_counts_and_the_first_orders_it() -> None:
    runs = [
        offline("v2", 1, 0.5),
        offline("v1", 0),
        offline("v2", 5, 0.97),  # v2 re-run after a golden-set refresh
    ]
    series = divergence_series(runs, {})
    assert [p.prompt_version for p in series] == ["v1", "v2"]
    assert series[1].offline.pass_rate == 0.97
    assert series[1].released_at == T0 + timedelta(days=1)
    assert divergence_to_dict(detect_divergence(series))["series"][1]["gap"] is None  # type: ignore[index]


def test_online_points_put_1_to_5_and_0_1_scores_on_one_scale() -> None:
    five = online_point("v1", ScoreSummary.of_values([5, 4, 2, 1]), 4.0)
    assert five.level == pytest.approx((3.0 - 1) / 4)
    assert five.bad_share == pytest.approx(0.5)
    binary = online_point("v1", ScoreSummary.of_values([1, 1, 1, 0]), 1.0)
    assert (binary.level, binary.bad_share) == (pytest.approx(0.75), pytest.approx(0.25))


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="releases must be at least 1"):
        DivergenceConfig(releases=0)
    with pytest.raises(ValueError, match="max_bad_share must be in"):
        DivergenceConfig(max_bad_share=2.0)


def good(rng: random.Random) -> float:
    return rng.choice((4, 5, 5, 4))


def poor(rng: random.Random) -> float:
    return rng.choice((1, 2, 4, 5, 2))  # 60% bad


def test_persistent_divergence_fires_an_alert_with_notifications_and_resolves(
    store: Store,
) -> None:
    start = T0 - timedelta(hours=4)
    for k, version in enumerate(VERSIONS):
        traffic = Traffic(prompt_version=version, judged=1.0, score=poor if k else good)
        store_traffic(store, traffic, start + timedelta(hours=k), 20, 3, seed=k)
    with store.writing() as conn:
        refresh_rollups(conn)
    runs = [offline(v, k - 10) for k, v in enumerate(VERSIONS)]
    with store.writing() as conn:
        found, change = watch_divergence(conn, "shop", runs, ["log", "hook"], T0, start)
    assert found.rubric == "helpfulness" and found.persistent
    assert change is not None and change.action == "trigger"
    with store.reading() as conn:
        [alert] = firing_alerts(conn, "shop").values()
        sent = conn.execute(
            sa.select(notifications.c.notifier, notifications.c.action).where(
                notifications.c.alert_id == alert.alert_id
            )
        ).all()
    assert alert.rule == RULE and alert.slice == {"rubric": "helpfulness"}
    assert alert.summary.startswith(ADVICE)
    assert [r["prompt_version"] for r in alert.details["releases"]] == ["v2", "v3", "v4"]
    assert sorted(sent) == [("hook", "trigger"), ("log", "trigger")]

    with store.writing() as conn:  # nothing new: no second alert, no new notification
        _, again = watch_divergence(conn, "shop", runs, ["log", "hook"], T0, start)
    assert again is None

    store_traffic(store, Traffic(prompt_version="v5", judged=1.0, score=good), T0, 20, 3, seed=9)
    with store.writing() as conn:
        refresh_rollups(conn)
    later = T0 + timedelta(hours=1)
    with store.writing() as conn:
        runs.append(offline("v5", 0))
        found, change = watch_divergence(conn, "shop", runs, ["log"], later, start)
    assert not found.persistent and change is not None and change.action == "resolve"
    with store.reading() as conn:
        assert firing_alerts(conn, "shop") == {}
        assert [a.state for a in list_alerts(conn)] == ["resolved"]
        resolves = conn.execute(
            sa.select(sa.func.count()).where(notifications.c.action == "resolve")
        ).scalar_one()
    assert resolves == 1
