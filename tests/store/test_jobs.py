from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from liveeval.config.worker import WorkerConfig
from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.schema import judge_jobs, scores
from liveeval.store.scores import scores_of
from tests.conftest import postgres_schema_url
from tests.store.stored import stored_interactions
from tests.telemetry import T0

LEASE = timedelta(minutes=5)
ROOT = Path(__file__).resolve().parents[2]


def new_jobs(ids: list[int], priority: int = 3, rubric: str = "quality") -> list[jobs.NewJob]:
    return [
        jobs.NewJob("shop", iid, rubric, "openai/m/quality@1#h", priority, "uniform") for iid in ids
    ]


def judged(job: jobs.Job, value: float = 4.0) -> Score:
    return Score(
        project="shop",
        interaction_id=job.interaction_id,
        name=job.rubric,
        kind=ScoreKind.JUDGE,
        value=value,
        created_at=T0,
    )


def test_enqueueing_the_same_job_twice_keeps_one(store: Store) -> None:
    ids = stored_interactions(store, 3)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs(ids), T0)
        jobs.enqueue(conn, new_jobs(ids), T0)
        jobs.enqueue(conn, new_jobs(ids[:1], rubric="faithfulness"), T0)
    with store.reading() as conn:
        assert jobs.counts(conn) == {"queued": 4, "leased": 0, "done": 0, "dead": 0}


def test_one_enqueue_adds_each_new_triple_once_with_its_fields(store: Store) -> None:
    ids = stored_interactions(store, 3)
    long_reason = "r" * 5000
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs(ids[:1]), T0)
        batch = [*new_jobs(ids, priority=1), *new_jobs(ids[1:2], priority=2)]
        batch.append(jobs.NewJob("shop", ids[2], "faithfulness", "v2", 0, long_reason))
        jobs.enqueue(conn, batch, T0 + timedelta(seconds=1))
        rows = conn.execute(
            sa.select(
                judge_jobs.c.interaction_id,
                judge_jobs.c.rubric,
                judge_jobs.c.priority,
                judge_jobs.c.state,
                judge_jobs.c.attempts,
                judge_jobs.c.available_at,
                sa.func.length(judge_jobs.c.reason),
            ).order_by(judge_jobs.c.job_id)
        ).all()
    width = judge_jobs.c.reason.type.length or 5000
    later = T0 + timedelta(seconds=1)
    assert [tuple(row) for row in rows] == [
        (ids[0], "quality", 3, "queued", 0, T0, len("uniform")),
        (ids[1], "quality", 1, "queued", 0, later, len("uniform")),
        (ids[2], "quality", 1, "queued", 0, later, len("uniform")),
        (ids[2], "faithfulness", 0, "queued", 0, later, min(width, 5000)),
    ]


def test_claim_takes_the_most_urgent_first_and_skips_leased_jobs(store: Store) -> None:
    ids = stored_interactions(store, 4)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs(ids[:2], priority=3), T0)
        jobs.enqueue(conn, new_jobs(ids[2:], priority=0), T0)
        first = jobs.claim(conn, "w1", 2, T0, LEASE)
        second = jobs.claim(conn, "w2", 10, T0, LEASE)
        third = jobs.claim(conn, "w3", 10, T0, LEASE)
    assert {j.interaction_id for j in first} == set(ids[2:])
    assert {j.interaction_id for j in second} == set(ids[:2])
    assert third == []
    assert all(j.attempts == 1 for j in first + second)


def test_an_expired_lease_is_claimed_again_with_its_attempt_counted(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs([iid]), T0)
        [held] = jobs.claim(conn, "dies", 1, T0, LEASE)
        before_expiry = jobs.claim(conn, "w2", 1, T0 + LEASE - timedelta(seconds=1), LEASE)
        [again] = jobs.claim(conn, "w2", 1, T0 + LEASE + timedelta(seconds=1), LEASE)
    assert before_expiry == []
    assert again.job_id == held.job_id and again.attempts == 2


def test_renewing_extends_only_the_leases_the_worker_still_holds(store: Store) -> None:
    ids = stored_interactions(store, 2)
    second = timedelta(seconds=1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs(ids), T0)
        held = [job.job_id for job in jobs.claim(conn, "w1", 2, T0, LEASE)]
        renewed = jobs.renew(conn, "w1", held, T0 + LEASE - second, LEASE)
        by_another = jobs.renew(conn, "w2", held, T0 + LEASE - second, LEASE)
        after_first_lease = jobs.claim(conn, "w2", 2, T0 + LEASE + second, LEASE)
        [taken, _] = jobs.claim(conn, "w2", 2, T0 + 2 * LEASE, LEASE)
        once_taken = jobs.renew(conn, "w1", held, T0 + 2 * LEASE, LEASE)
    assert (renewed, by_another, after_first_lease) == (2, 0, [])
    assert taken.attempts == 2 and once_taken == 0


def test_a_dead_workers_jobs_are_claimed_again_within_a_minute_by_default(
    store: Store,
) -> None:
    """A worker that dies stops renewing: its jobs wait one lease (60 s), not ten minutes."""
    lease = timedelta(seconds=WorkerConfig().lease_s)
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs([iid]), T0)
        [held] = jobs.claim(conn, "dies", 1, T0, lease)
        [again] = jobs.claim(conn, "w2", 1, T0 + timedelta(seconds=61), lease)
    assert again.job_id == held.job_id and again.attempts == 2


def test_completing_twice_writes_one_score(store: Store) -> None:
    """A slow worker whose lease expired finishes after the second one: still one score."""
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs([iid]), T0)
        [slow] = jobs.claim(conn, "slow", 1, T0, LEASE)
        [fast] = jobs.claim(conn, "fast", 1, T0 + LEASE * 2, LEASE)
        first = jobs.complete(conn, fast, judged(fast, 4.0), T0)
        second = jobs.complete(conn, slow, judged(slow, 2.0), T0)
    with store.reading() as conn:
        found = scores_of(conn, [iid])
        assert jobs.counts(conn)["done"] == 1
    assert first == second
    assert [s.value for s in found] == [4.0]


def test_retry_later_hides_the_job_until_its_time(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs([iid]), T0)
        [job] = jobs.claim(conn, "w", 1, T0, LEASE)
        jobs.retry_later(conn, job, "connection refused", T0 + timedelta(seconds=30))
        early = jobs.claim(conn, "w", 1, T0 + timedelta(seconds=29), LEASE)
        [later] = jobs.claim(conn, "w", 1, T0 + timedelta(seconds=30), LEASE)
    assert early == []
    assert later.attempts == 2
    with store.reading() as conn:
        [row] = jobs.jobs_of(conn, iid)
    assert row["last_error"] == "connection refused"


def test_a_dead_lettered_job_keeps_an_error_score(store: Store) -> None:
    [iid] = stored_interactions(store, 1)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs([iid]), T0)
        [job] = jobs.claim(conn, "w", 1, T0, LEASE)
        error = Score(
            project="shop",
            interaction_id=iid,
            name="quality",
            kind=ScoreKind.JUDGE,
            status=ScoreStatus.ERROR,
            error="judge unreachable after 5 attempts",
            created_at=T0,
        )
        jobs.dead_letter(conn, job, "judge unreachable after 5 attempts", error, T0)
        assert jobs.claim(conn, "w", 1, T0 + LEASE * 10, LEASE) == []
    with store.reading() as conn:
        [score] = scores_of(conn, [iid])
        assert jobs.counts(conn)["dead"] == 1
    assert score.status == ScoreStatus.ERROR and score.value is None


def test_backoff_doubles_and_is_capped() -> None:
    delays = [jobs.backoff(n, base_s=5).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [5, 10, 20, 40]
    assert max(delays) == 600


def _spawn(url: str, name: str, lease_s: float, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.queue_worker", url, name, str(lease_s), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_worker_processes_lose_no_job_and_do_none_twice_when_one_is_killed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from liveeval.store.database import open_store

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        context = postgres_schema_url()
        url = context.__enter__()
        request.addfinalizer(lambda: context.__exit__(None, None, None))
    store = open_store(url)
    ids = stored_interactions(store, 120)
    with store.writing() as conn:
        jobs.enqueue(conn, new_jobs(ids), T0)
    store.close()

    victim = _spawn(url, "victim", 2.0, "--hang")
    assert victim.stdout is not None
    held = victim.stdout.readline().split()[1:]
    assert len(held) == 5
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdout.close()

    workers = [_spawn(url, f"w{n}", 30.0) for n in range(3)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers)

    done = Counter(
        int(line.split()[1]) for out in outputs for line in out.splitlines() if line.strip()
    )
    store = open_store(url, migrate=False)
    with store.reading() as conn:
        all_jobs = conn.execute(sa.select(judge_jobs.c.job_id, judge_jobs.c.state)).all()
        score_count = conn.execute(sa.select(sa.func.count()).select_from(scores)).scalar_one()
        attempts = {
            job_id: n
            for job_id, n in conn.execute(sa.select(judge_jobs.c.job_id, judge_jobs.c.attempts))
        }
    store.close()
    assert {state for _, state in all_jobs} == {"done"}
    assert set(done) == {job_id for job_id, _ in all_jobs}  # none lost
    assert max(done.values()) == 1  # none done twice
    assert score_count == 120
    assert {attempts[int(j)] for j in held} == {2}  # the killed worker's jobs ran again
    assert len(set(held) & {str(j) for j in done}) == 5
