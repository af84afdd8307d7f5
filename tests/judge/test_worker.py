"""The judge worker: queue → provider over HTTP → parsed verdict → score, on both stores.

The model API is the scripted local HTTP server of tests/judge/api.py, standing in
for a paid provider; the local-model path has its own test in providers/test_local.py.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.config.judge import JudgeConfig
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.judge.grading import judge_version
from liveeval.judge.rubrics import selected_rubrics
from liveeval.judge.worker import BackgroundWorker, build_worker
from liveeval.model import ScoreKind, ScoreStatus
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.schema import judge_jobs
from liveeval.store.scores import ScoreFilter, list_scores, scores_of
from tests.conftest import Clock, wait_for
from tests.judge.api import ScriptedAPI, chat_reply, error_reply, run_api
from tests.store.stored import stored_interactions
from tests.telemetry import T0, chat_attributes, model_span, trace_id

pytestmark = pytest.mark.anyio
PINNED = "gpt-4o-mini-2024-07-18"
NOW = T0 + timedelta(minutes=1)
EVALUATION_DOCS = Path(__file__).resolve().parents[2] / "docs" / "evaluation.md"


def settings(api: ScriptedAPI, **judge: Any) -> Settings:
    return Settings.model_validate(
        {
            "judge": {
                "provider": "openai",
                "model": PINNED,
                "base_url": f"{api.url}/v1",
                "api_key_env": "LIVEEVAL_TEST_JUDGE_KEY",
                "max_attempts": 1,
                "backoff_s": 0.01,
                "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
                **judge,
            },
            "worker": {"max_job_attempts": 3, "retry_base_s": 5},
        }
    )


@pytest.fixture(autouse=True)
def _judge_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEEVAL_TEST_JUDGE_KEY", "sk-test")


def queue(store: Store, config: Settings, ids: list[int], clock: Clock) -> None:
    [rubric] = selected_rubrics(config.judge)
    version = judge_version(config.judge, rubric)
    with store.writing() as conn:
        jobs.enqueue(
            conn,
            [
                jobs.NewJob("shop", iid, rubric.name, version, 3, "uniform: hash 0.01")
                for iid in ids
            ],
            clock(),
        )


async def test_a_queued_job_becomes_a_judge_score_with_its_version_and_cost(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    api.script(chat_reply(score=4, usage=(1000, 100)))
    worker = build_worker(config, store, clock=clock)
    stats = await worker.run_until_idle()
    await worker.grader.aclose()
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
        assert jobs.counts(conn)["done"] == 1
    assert (score.kind, score.status, score.value) == (ScoreKind.JUDGE, ScoreStatus.OK, 4.0)
    assert score.name == "quality" and score.explanation
    assert score.evaluator_version is not None and PINNED in score.evaluator_version
    assert score.details["model_reported"] == PINNED and not score.details["model_mismatch"]
    assert score.cost_usd == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)
    assert score.details["sampled_because"] == "uniform: hash 0.01"
    assert stats.scored == 1 and len(api.requests) == 1


async def test_a_different_served_model_is_recorded_and_counted(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    api.script(chat_reply(score=3, model="gpt-4o-2024-11-20"))
    worker = build_worker(config, store, clock=clock)
    stats = await worker.run_until_idle()
    await worker.grader.aclose()
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
    assert score.details["model_mismatch"] is True
    assert score.details["model_reported"] == "gpt-4o-2024-11-20"
    assert stats.model_mismatches == 1


async def test_an_unparseable_answer_is_an_error_score_not_a_zero(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    api.script(chat_reply("I think it is fine."), chat_reply("Still not JSON."))
    worker = build_worker(config, store, clock=clock)
    await worker.run_until_idle()
    await worker.grader.aclose()
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
        assert jobs.counts(conn)["done"] == 1
    assert score.status == ScoreStatus.ERROR and score.value is None
    assert score.error


async def test_an_unreachable_judge_retries_later_then_dead_letters(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    worker = build_worker(config, store, clock=clock)
    for attempt in range(1, 4):
        api.script(error_reply(500))
        await worker.run_until_idle()
        with store.reading() as conn:
            [job] = jobs.jobs_of(conn, iid)
            found = scores_of(conn, [iid])
        if attempt < 3:
            assert (job["state"], job["attempts"], found) == ("queued", attempt, [])
            assert "500" in job["last_error"]
            await worker.run_until_idle()  # not due yet: nothing happens
            assert len(api.requests) == attempt
            clock.now += timedelta(seconds=5 * 2 ** (attempt - 1))
    await worker.grader.aclose()
    assert job["state"] == "dead"
    [score] = found
    assert score.status == ScoreStatus.ERROR and "500" in (score.error or "")


async def test_a_judge_that_times_out_is_retried_requeued_then_an_error_score(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    """What docs/evaluation.md says of a timeout: each request is tried max_attempts
    times; then the job goes back to the queue, not to an error score, and only after
    max_job_attempts rounds is it dead-lettered with the reason."""
    config = settings(api, timeout_s=0.2, max_attempts=2)
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    worker = build_worker(config, store, clock=clock)
    for attempt in range(1, 4):
        late = [chat_reply(score=4) for _ in range(2)]
        for reply in late:
            reply.delay_s = 2.0
        api.script(*late)
        await worker.run_until_idle()
        with store.reading() as conn:
            [job] = jobs.jobs_of(conn, iid)
            found = scores_of(conn, [iid])
        assert len(api.requests) == 2 * attempt  # both tries of each round
        if attempt < 3:
            assert (job["state"], found) == ("queued", [])
            clock.now += timedelta(seconds=5 * 2 ** (attempt - 1))
    await worker.grader.aclose()
    [score] = found
    assert job["state"] == "dead" and score.status == ScoreStatus.ERROR
    assert score.error == "timed out after 0.2s (gave up after 2 tries)"
    defaults = JudgeConfig()
    documented = f"timed out after {defaults.timeout_s:g}s (gave up after {defaults.max_attempts}"
    assert documented in EVALUATION_DOCS.read_text()


async def test_a_long_judge_call_keeps_its_job_leased_by_renewing(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    """The worker renews its leases every lease_s / 3 while the judge takes its time, so
    no other worker takes the job however long the call."""
    config = settings(api)
    config = config.model_copy(update={"worker": config.worker.model_copy(update={"lease_s": 0.3})})
    [iid] = stored_interactions(store, 1)
    queue(store, config, [iid], clock)
    slow = chat_reply(score=4)
    slow.delay_s = 3.0
    api.script(slow)
    worker = build_worker(config, store, clock=clock)
    grading = asyncio.create_task(worker.run_until_idle())
    await asyncio.to_thread(wait_for, lambda: api.requests)  # the judge is at work
    clock.now += timedelta(minutes=10)  # long past the lease the job was claimed with

    def lease_ends() -> datetime | None:
        with store.reading() as conn:
            found = conn.execute(sa.select(judge_jobs.c.lease_expires_at)).scalar_one()
        return found if found is not None and found > clock.now else None

    await asyncio.to_thread(wait_for, lease_ends)  # renewed from the moved clock
    with store.writing() as conn:
        taken = jobs.claim(conn, "another", 1, clock.now, timedelta(seconds=0.3))
    stats = await grading
    await worker.grader.aclose()
    assert taken == []
    assert stats.scored == 1 and len(api.requests) == 1
    with store.reading() as conn:
        assert jobs.jobs_of(conn, iid)[0]["attempts"] == 1


async def test_the_same_question_is_paid_for_once(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    ids = stored_interactions(store, 2)
    with store.writing() as conn:  # two interactions with the same input and output
        from liveeval.store.schema import interactions

        conn.execute(interactions.update().values(input_text="same?", output_text="same."))
    queue(store, config, ids[:1], clock)
    api.script(chat_reply(score=5))
    worker = build_worker(config, store, clock=clock)
    await worker.run_until_idle()
    queue(store, config, ids[1:], clock)
    stats = await worker.run_until_idle()
    await worker.grader.aclose()
    with store.reading() as conn:
        scores = scores_of(conn, ids)
    assert len(api.requests) == 1 and stats.cached == 1
    assert [s.value for s in scores] == [5.0, 5.0]
    cached = [s for s in scores if s.details.get("cached")]
    assert len(cached) == 1 and cached[0].cost_usd == 0.0


async def test_a_job_for_a_rubric_no_longer_configured_is_dead_lettered(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api)
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(
            conn, [jobs.NewJob("shop", iid, "tone", "openai/x/tone@1#abc", 3, "")], clock()
        )
    worker = build_worker(config, store, clock=clock)
    await worker.run_until_idle()
    await worker.grader.aclose()
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
        assert jobs.counts(conn)["dead"] == 1
    assert score.status == ScoreStatus.ERROR and "no longer configured" in (score.error or "")
    assert api.requests == []


def test_a_background_worker_drains_the_queue_and_stops(
    store: Store, api: ScriptedAPI, clock: Clock
) -> None:
    config = settings(api, concurrency=4)
    ids = stored_interactions(store, 10)
    queue(store, config, ids, clock)
    api.script(*(chat_reply(score=n % 5 + 1) for n in range(10)))
    background = BackgroundWorker(build_worker(config, store, clock=clock)).start()

    def done() -> bool:
        with store.reading() as conn:
            return jobs.counts(conn)["done"] == 10

    wait_for(done)
    background.stop()
    with store.reading() as conn:
        values = sorted(s.value or 0 for s in scores_of(conn, ids))
    assert values == sorted(float(n % 5 + 1) for n in range(10))


def test_ingest_goes_on_while_the_judge_is_down_and_the_queue_drains_when_it_is_back(
    store: Store,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on, until the judge comes back
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Settings.model_validate(
        {
            "judge": {
                "provider": "openai",
                "model": PINNED,
                "base_url": f"http://127.0.0.1:{port}/v1",
                "api_key_env": "LIVEEVAL_TEST_JUDGE_KEY",
                "max_attempts": 1,
            },
            "sampling": {"policies": ["uniform"], "uniform": {"rate": 1.0}},
            "evaluation": "inline",
            "worker": {"retry_base_s": 0.05, "max_job_attempts": 100, "poll_interval_s": 0.05},
        }
    )
    evaluation = OnlineEvaluation.from_settings(config)
    background = BackgroundWorker(build_worker(config, store)).start()
    try:
        for _ in range(3):  # each export is stored and acknowledged; nothing waits on the judge
            spans = [
                model_span(chat_attributes("Hi?", "Hello."), trace=trace_id()) for _ in range(4)
            ]
            written = write_spans(store, spans, AssemblyRules(), NOW, evaluation=evaluation)
            assert written.judge_jobs == 4

        def retried() -> bool:
            with store.reading() as conn:
                rows = [jobs.jobs_of(conn, iid) for iid in range(1, 13)]
            return all(r and r[0]["attempts"] >= 1 and r[0]["last_error"] for r in rows)

        wait_for(retried)
        with store.reading() as conn:
            assert jobs.counts(conn)["done"] == 0
        with run_api(port) as api:
            api.script(*(chat_reply(score=4) for _ in range(12)))

            def drained() -> bool:
                with store.reading() as conn:
                    return jobs.counts(conn)["done"] == 12

            wait_for(drained, timeout=30)
    finally:
        background.stop()
    with store.reading() as conn:
        judged = list_scores(conn, ScoreFilter(project="default", kind=ScoreKind.JUDGE), limit=50)
    assert len(judged) == 12 and {s.status for s in judged} == {ScoreStatus.OK}
