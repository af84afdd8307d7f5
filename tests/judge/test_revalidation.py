"""Re-validation after a judge model change: the worker grades the calibration set
before the new served model's scores are written; a judge that fails is held (its jobs
wait, no score reaches the SLIs) and the alert fires; when it passes later, the held
jobs complete and the alert resolves. The provider is the scripted local HTTP API of
tests/judge/api.py, standing in for a paid one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sklearn.metrics import cohen_kappa_score

from liveeval.flywheel.revalidation import RECHECK_AFTER, Revalidator
from liveeval.judge.worker import build_worker
from liveeval.store import jobs
from liveeval.store.alerts import firing_alerts
from liveeval.store.calibration import StoredItem, replace_calibration_set, runs
from liveeval.store.database import Store
from liveeval.store.schema import alerts
from liveeval.store.scores import scores_of
from tests.conftest import Clock
from tests.judge.api import ScriptedAPI, chat_reply
from tests.judge.test_worker import _judge_key, queue, settings  # noqa: F401 (fixture)
from tests.store.stored import stored_interactions

pytestmark = pytest.mark.anyio
HUMAN = [5, 4, 2, 1, 3, 5, 4, 2, 1, 3]
NEW_MODEL = "gpt-4o-mini-2025-01-31"


def calibration_set(store: Store, clock: Clock) -> None:
    items = [
        StoredItem(f"c{k}", f"question {k}", f"answer {k}", (), (float(h),))
        for k, h in enumerate(HUMAN)
    ]
    with store.writing() as conn:
        replace_calibration_set(conn, "shop", "quality", items, clock())


async def run_worker(store: Store, api: ScriptedAPI, clock: Clock) -> None:
    config = settings(api)
    worker = build_worker(config, store, clock=clock)
    worker.gate = Revalidator(store, worker.grader, config, clock, concurrency=1).held
    await worker.run_until_idle()
    await worker.grader.aclose()


async def test_a_judge_that_fails_revalidation_is_held_then_released(
    sqlite_store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    store = sqlite_store
    calibration_set(store, clock)
    [iid] = stored_interactions(store, 1)
    queue(store, settings(api), [iid], clock)
    disagreeing = [6 - h for h in HUMAN]
    api.script(
        chat_reply(score=4, model=NEW_MODEL),
        *(chat_reply(score=s, model=NEW_MODEL) for s in disagreeing),
    )
    await run_worker(store, api, clock)

    with store.reading() as conn:
        assert scores_of(conn, [iid]) == []  # held: nothing reaches the rollups
        assert jobs.counts(conn)["queued"] == 1
        [job] = jobs.jobs_of(conn, iid)
        [run] = runs(conn, "shop")
        [alert] = firing_alerts(conn, "shop").values()
    assert job["attempts"] == 0 and "failed re-validation" in job["last_error"]
    assert run.model_reported == NEW_MODEL and run.trigger == "model_change" and not run.passed
    expected = cohen_kappa_score(HUMAN, disagreeing, labels=[1, 2, 3, 4, 5], weights="quadratic")
    assert run.metrics["kappa_quadratic"]["value"] == pytest.approx(expected)
    assert alert.rule == "judge-revalidation" and alert.slice["model_reported"] == NEW_MODEL
    assert len(api.requests) == 1 + len(HUMAN)

    # before the re-check is due, the job waits without another call
    clock.now += timedelta(minutes=11)
    api.reset()
    api.script(chat_reply(score=4, model=NEW_MODEL))
    await run_worker(store, api, clock)
    with store.reading() as conn:
        assert scores_of(conn, [iid]) == []
    assert len(api.requests) == 1

    # the provider fixed its model: the re-check passes, the score is written
    clock.now += RECHECK_AFTER
    api.reset()
    api.script(
        chat_reply(score=4, model=NEW_MODEL),
        *(chat_reply(score=h, model=NEW_MODEL) for h in HUMAN),
    )
    await run_worker(store, api, clock)
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
        assert firing_alerts(conn, "shop") == {}
        states = conn.execute(sa.select(alerts.c.state)).scalars().all()
        history = runs(conn, "shop")
    assert score.value == 4.0 and NEW_MODEL in (score.evaluator_version or "")
    assert states == ["resolved"]
    assert [r.passed for r in history] == [True, False]


async def test_without_a_calibration_set_scores_are_not_gated(
    sqlite_store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    [iid] = stored_interactions(sqlite_store, 1)
    queue(sqlite_store, settings(api), [iid], clock)
    api.script(chat_reply(score=2, model=NEW_MODEL))
    await run_worker(sqlite_store, api, clock)
    with sqlite_store.reading() as conn:
        [score] = scores_of(conn, [iid])
    assert score.value == 2.0 and len(api.requests) == 1
