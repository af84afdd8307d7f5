"""The judge-calibration alert: judge vs reviewers' scores per judge version, through the
monitor's tick and its notification outbox."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa
from sklearn.metrics import cohen_kappa_score

from liveeval.config import Settings
from liveeval.config.monitor import MonitorConfig
from liveeval.model import Score, ScoreKind
from liveeval.monitor.scheduler import Monitor
from liveeval.store.alerts import firing_alerts
from liveeval.store.database import Store
from liveeval.store.schema import calibration_runs, notifications
from liveeval.store.scores import write_scores
from tests.flywheel.test_review_flow import T0, store_interactions

VERSION = "openai/gpt-4o-2024-08-06 helpfulness@1 abc123"


def score_pairs(store: Store, ids: list[int], judge: list[int], human: list[int]) -> None:
    batch, keys = [], []
    for iid, j, h in zip(ids, judge, human, strict=True):
        batch.append(
            Score(
                "shop",
                iid,
                "helpfulness",
                ScoreKind.JUDGE,
                value=float(j),
                evaluator_version=f"{VERSION} (reported gpt-4o-2024-08-06)",
                created_at=T0,
            )
        )
        batch.append(
            Score("shop", iid, "helpfulness", ScoreKind.HUMAN, value=float(h), created_at=T0)
        )
        keys += [f"j{iid}", f"h{iid}"]
    with store.writing() as conn:
        write_scores(conn, batch, keys)


def test_agreement_below_the_floor_fires_and_recovery_resolves(sqlite_store: Store) -> None:
    rng = random.Random(3)
    ids = store_interactions(sqlite_store, [(f"q{k}", "a" * k) for k in range(40)])
    human = [rng.randint(1, 5) for _ in ids]
    judge = [rng.randint(1, 5) for _ in ids]  # unrelated to the humans: kappa near 0
    score_pairs(sqlite_store, ids[:30], judge[:30], human[:30])
    settings = Settings(
        db=str(sqlite_store.engine.url),
        monitor=MonitorConfig(notifiers=[{"name": "log", "type": "log"}]),
    )
    monitor = Monitor(sqlite_store, settings)
    tick = monitor.tick(T0 + timedelta(hours=1))
    assert tick is not None
    [change] = [c for c in tick.changes if c.alert.rule == "judge-calibration"]
    assert change.action == "trigger"
    expected = cohen_kappa_score(
        human[:30], judge[:30], labels=[1, 2, 3, 4, 5], weights="quadratic"
    )
    assert change.alert.value is not None
    assert abs(change.alert.value - expected) < 1e-9
    assert change.alert.slice == {"rubric": "helpfulness", "judge_version": VERSION}
    with sqlite_store.reading() as conn:
        assert len(firing_alerts(conn, "shop")) == 1
        sent = conn.execute(sa.select(notifications.c.action)).scalars().all()
        runs = conn.execute(sa.select(calibration_runs.c.n, calibration_runs.c.passed)).all()
    assert sent == ["trigger"]
    assert runs == [(30, False)]

    # the same scores again: no new run, no new notification
    monitor.tick(T0 + timedelta(hours=2))
    with sqlite_store.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(calibration_runs)).scalar() == 1

    # a new judge version that agrees with people: its own series; the old alert stays
    # until the old version's agreement recovers
    score_pairs(sqlite_store, ids[30:], human[30:], human[30:])
    monitor.tick(T0 + timedelta(hours=3))
    with sqlite_store.reading() as conn:
        assert len(firing_alerts(conn, "shop")) == 1
    monitor.release()


def test_too_few_items_are_not_rated(sqlite_store: Store) -> None:
    ids = store_interactions(sqlite_store, [(f"q{k}", "a") for k in range(5)])
    score_pairs(sqlite_store, ids, [1, 1, 1, 1, 1], [5, 5, 5, 5, 5])
    monitor = Monitor(sqlite_store, Settings(db=str(sqlite_store.engine.url)))
    tick = monitor.tick(T0 + timedelta(hours=1))
    assert tick is not None
    assert [c for c in tick.changes if c.alert.rule == "judge-calibration"] == []
    monitor.release()
