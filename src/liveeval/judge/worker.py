"""The judge worker: takes jobs from the store's queue, grades them, writes scores.

Up to `concurrency` judgments are in flight at once; claims and acks go to the
store in batches from a thread, so the event loop only waits on the judge. What
happens to a job:
- the same question was answered before (the cache): its score is written at no cost;
- the judge answered, or failed in a way asking again will not fix (refusal,
  unparseable answer, 4xx other than 408, 409 and 429): the score is written,
  `ok` or `error`;
- the judge could not be reached (timeout, connection refused, 408, 409, 429 or
  5xx after the grader's own retries): the job goes back to the queue with
  backoff, and after `max_job_attempts` it is dead-lettered with an error score;
- the job's rubric or judge version is no longer configured: dead-lettered, with
  an error score that says so.

While the worker holds jobs (claimed, grading, or waiting to be written) it renews
their leases every `lease_s / 3`, so a judge call of any length keeps its job, and a
worker that dies gives its jobs up within `lease_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from liveeval.config import Settings
from liveeval.config.worker import WorkerConfig
from liveeval.judge.cache import cache_key
from liveeval.judge.grading import Grader, Judgment, judge_version
from liveeval.judge.providers import build_provider
from liveeval.judge.rubrics import Rubric, selected_rubrics
from liveeval.model import Interaction, Score, ScoreKind, ScoreStatus
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.interactions import get_interactions
from liveeval.store.judge_cache import CachedVerdict, find_cached, remember

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass(frozen=True, slots=True)
class Claimed:
    job: jobs.Job
    interaction: Interaction | None  # None: deleted since it was queued
    cache_key: str | None
    cached: CachedVerdict | None


@dataclass(slots=True)
class Outcome:
    """What to write for one finished job."""

    job: jobs.Job
    score: Score | None = None  # complete (or dead-letter) with this score
    retry_at: datetime | None = None  # or give it back to the queue
    dead: bool = False
    error: str | None = None
    cache: tuple[str, CachedVerdict] | None = None
    held: bool = False  # with retry_at: the judge is held, the attempt does not count


# Whether scores of (project, rubric, judge version, model the provider reported) may be
# written now; None when they may, else why they are held (flywheel/revalidation.py).
Gate = Callable[[str, Rubric, str, str | None], Awaitable[str | None]]
HOLD = timedelta(minutes=10)


@dataclass
class WorkerStats:
    claimed: int = 0
    scored: int = 0
    errors: int = 0
    retried: int = 0
    dead: int = 0
    cached: int = 0
    held: int = 0
    model_mismatches: int = 0


class JudgeWorker:
    def __init__(
        self,
        store: Store,
        grader: Grader,
        rubrics: dict[str, Rubric],
        config: WorkerConfig,
        *,
        concurrency: int,
        clock: Callable[[], datetime] = utc_now,
        name: str | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.gate = gate
        self.store = store
        self.grader = grader
        self.rubrics = rubrics
        self.config = config
        self.concurrency = concurrency
        self.clock = clock
        self.name = name or worker_name()
        self.stats = WorkerStats()
        self.versions = {name: judge_version(grader.config, r) for name, r in rubrics.items()}
        self._holding: set[int] = set()  # ids of the jobs leased and not yet written back
        self._holding_lock = threading.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; then finish what is in flight.

        Jobs are claimed ahead, up to `concurrency` waiting beside the `concurrency` in
        flight, so a finished judgment's slot is filled at once rather than after a
        round trip to the store. Claimed jobs not started when stopping go back.
        """
        inflight: set[asyncio.Task[Outcome]] = set()
        ready: deque[Claimed] = deque()
        claiming: asyncio.Task[list[Claimed]] | None = None
        next_claim = 0.0
        outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        writer = asyncio.create_task(self._write_outcomes(outcomes, stop))
        heartbeat = asyncio.create_task(self._heartbeat())
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                while ready and len(inflight) < self.concurrency:
                    task = asyncio.create_task(self._grade(ready.popleft()))
                    task.add_done_callback(lambda t: outcomes.put_nowait(t.result()))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                wanted = 2 * self.concurrency - len(ready) - len(inflight)
                if (
                    claiming is None
                    and wanted >= self.concurrency // 4
                    and loop.time() >= next_claim
                ):
                    claiming = asyncio.create_task(asyncio.to_thread(self._claim, max(1, wanted)))
                waiting: set[asyncio.Future[Any]] = set(inflight)
                if claiming is not None:
                    waiting.add(claiming)
                if not waiting:
                    await _wait(stop, max(0.0, next_claim - loop.time()))
                    continue
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {*waiting, stopping},
                    timeout=self.config.poll_interval_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                stopping.cancel()
                if claiming is not None and claiming.done():
                    claimed = claiming.result()
                    claiming = None
                    ready.extend(claimed)
                    if not claimed:
                        next_claim = loop.time() + self.config.poll_interval_s
            if claiming is not None:
                ready.extend(await claiming)
            if ready:
                await asyncio.to_thread(self._release, [item.job for item in ready])
            if inflight:
                await asyncio.wait(inflight)
        finally:
            stop.set()
            await writer
            await _cancel(heartbeat)

    async def run_until_idle(self) -> WorkerStats:
        """Work until no job is due (for tests, benchmarks and `liveeval worker --drain`)."""
        stop = asyncio.Event()
        outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        writer = asyncio.create_task(self._write_outcomes(outcomes, stop))
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                claimed = await asyncio.to_thread(self._claim, self.concurrency)
                if not claimed:
                    break
                results = await asyncio.gather(*(self._grade(item) for item in claimed))
                for outcome in results:
                    outcomes.put_nowait(outcome)
                await outcomes.join()
        finally:
            stop.set()
            await writer
            await _cancel(heartbeat)
        return self.stats

    # -- the store side, in threads --------------------------------------------------

    def _claim(self, limit: int) -> list[Claimed]:
        """Lease jobs, and read their interactions and any cached verdicts."""
        now = self.clock()
        lease = timedelta(seconds=self.config.lease_s)
        with self.store.writing() as conn:
            claimed = jobs.claim(conn, self.name, limit, now, lease)
        if not claimed:
            return []
        self._hold({job.job_id for job in claimed})
        with self.store.reading() as conn:
            found = get_interactions(conn, [job.interaction_id for job in claimed])
            keys = {
                job.job_id: cache_key(found[job.interaction_id], job.judge_version)
                for job in claimed
                if job.interaction_id in found
            }
            cached = find_cached(conn, set(keys.values()))
        self.stats.claimed += len(claimed)
        return [
            Claimed(
                job,
                found.get(job.interaction_id),
                keys.get(job.job_id),
                cached.get(keys.get(job.job_id, "")),
            )
            for job in claimed
        ]

    def _release(self, claimed: list[jobs.Job]) -> None:
        with self.store.writing() as conn:
            jobs.release(conn, claimed)
        self._let_go({job.job_id for job in claimed})

    def _hold(self, job_ids: set[int]) -> None:
        with self._holding_lock:
            self._holding |= job_ids

    def _let_go(self, job_ids: set[int]) -> None:
        with self._holding_lock:
            self._holding -= job_ids

    def _renew(self) -> int:
        """Extend the leases of the jobs this worker holds; how many it still held."""
        with self._holding_lock:
            held = sorted(self._holding)
        if not held:
            return 0
        lease = timedelta(seconds=self.config.lease_s)
        with self.store.writing() as conn:
            return jobs.renew(conn, self.name, held, self.clock(), lease)

    async def _heartbeat(self) -> None:
        """Renew the leases every lease_s / 3 until cancelled (when all is written)."""
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            try:
                await asyncio.to_thread(self._renew)
            except Exception:  # the store failed: the next beat tries again
                log.exception("could not renew the judge jobs' leases")

    async def _write_outcomes(self, outcomes: asyncio.Queue[Outcome], stop: asyncio.Event) -> None:
        while not (stop.is_set() and outcomes.empty()):
            try:
                first = await asyncio.wait_for(outcomes.get(), timeout=0.05)
            except TimeoutError:
                continue
            batch = [first]
            while not outcomes.empty() and len(batch) < 256:
                batch.append(outcomes.get_nowait())
            try:
                await asyncio.to_thread(self._write, batch)
            except Exception:  # the store failed: leases expire, the jobs run again
                log.exception("could not write %d judge outcomes", len(batch))
            self._let_go({outcome.job.job_id for outcome in batch})
            for _ in batch:
                outcomes.task_done()

    def _write(self, batch: list[Outcome]) -> None:
        now = self.clock()
        with self.store.writing() as conn:
            for outcome in batch:
                if outcome.cache is not None:
                    remember(conn, *outcome.cache)
                if outcome.held and outcome.retry_at is not None:
                    jobs.hold(conn, outcome.job, outcome.error or "", outcome.retry_at)
                elif outcome.retry_at is not None:
                    jobs.retry_later(conn, outcome.job, outcome.error or "", outcome.retry_at)
                elif outcome.dead:
                    jobs.dead_letter(conn, outcome.job, outcome.error or "", outcome.score, now)
                elif outcome.score is not None:
                    jobs.complete(conn, outcome.job, outcome.score, now)

    # -- grading ---------------------------------------------------------------------

    async def _grade(self, item: Claimed) -> Outcome:
        try:
            return await self._outcome(item)
        except Exception as exc:  # a bug: give the job back, it is retried, then dead
            log.exception("judge job %s failed", item.job.job_id)
            return self._unreachable(item.job, item.interaction, f"internal error: {exc!r}")

    async def _outcome(self, item: Claimed) -> Outcome:
        job, interaction = item.job, item.interaction
        if interaction is None:  # deleted (retention) since it was queued
            return Outcome(job, score=None, dead=True, error="interaction no longer exists")
        if job.attempts > self.config.max_job_attempts:
            return self._dead(job, interaction, f"gave up after {job.attempts - 1} attempts")
        rubric = self.rubrics.get(job.rubric)
        if rubric is None or self.versions.get(job.rubric) != job.judge_version:
            now_version = self.versions.get(job.rubric, "no such rubric configured")
            return self._dead(
                job,
                interaction,
                f"judge version {job.judge_version} is no longer configured (now {now_version})",
            )
        if item.cached is not None:
            held = await self._held(job, interaction, rubric, item.cached.model_reported)
            if held is not None:
                return held
            self.stats.cached += 1
            return Outcome(job, score=self._cached_score(job, interaction, rubric, item.cached))
        judgment = await self.grader.grade(rubric, interaction)
        if judgment.status == "error" and judgment.transient:
            if job.attempts >= self.config.max_job_attempts:
                return self._dead(job, interaction, judgment.error or "judge unreachable")
            self.stats.retried += 1
            delay = jobs.backoff(job.attempts, self.config.retry_base_s)
            return Outcome(job, retry_at=self.clock() + delay, error=judgment.error)
        if judgment.status == "ok":
            held = await self._held(job, interaction, rubric, judgment.model_reported)
            if held is not None:
                return held
        score = judgment_score(job, interaction, judgment, self.clock())
        self._count(judgment)
        verdict = None
        if judgment.status == "ok" and item.cache_key is not None:
            verdict = (
                item.cache_key,
                CachedVerdict(
                    value=judgment.value,
                    label=judgment.label,
                    explanation=judgment.explanation,
                    model_reported=judgment.model_reported,
                    input_tokens=judgment.input_tokens,
                    output_tokens=judgment.output_tokens,
                    cost_usd=judgment.cost_usd,
                    created_at=self.clock(),
                ),
            )
        return Outcome(job, score=score, cache=verdict)

    async def _held(
        self, job: jobs.Job, interaction: Interaction, rubric: Rubric, model: str | None
    ) -> Outcome | None:
        """A hold when this judge (version and served model) failed re-validation."""
        if self.gate is None:
            return None
        reason = await self.gate(interaction.project, rubric, job.judge_version, model)
        if reason is None:
            return None
        self.stats.held += 1
        return Outcome(job, retry_at=self.clock() + HOLD, error=reason, held=True)

    def _count(self, judgment: Judgment) -> None:
        self.stats.scored += 1
        if judgment.status == "error":
            self.stats.errors += 1
        if judgment.model_mismatch:
            self.stats.model_mismatches += 1

    def _unreachable(self, job: jobs.Job, interaction: Interaction | None, error: str) -> Outcome:
        if interaction is not None and job.attempts >= self.config.max_job_attempts:
            return self._dead(job, interaction, error)
        self.stats.retried += 1
        delay = jobs.backoff(job.attempts, self.config.retry_base_s)
        return Outcome(job, retry_at=self.clock() + delay, error=error)

    def _dead(self, job: jobs.Job, interaction: Interaction, error: str) -> Outcome:
        self.stats.dead += 1
        score = Score(
            project=interaction.project,
            interaction_id=job.interaction_id,
            name=job.rubric,
            kind=ScoreKind.JUDGE,
            status=ScoreStatus.ERROR,
            error=error,
            evaluator_version=job.judge_version,
            details={"job_id": job.job_id, "attempts": job.attempts, "dead_lettered": True},
            created_at=self.clock(),
        )
        return Outcome(job, score=score, dead=True, error=error)

    def _cached_score(
        self, job: jobs.Job, interaction: Interaction, rubric: Rubric, cached: CachedVerdict
    ) -> Score:
        return Score(
            project=interaction.project,
            interaction_id=job.interaction_id,
            name=job.rubric,
            kind=ScoreKind.JUDGE,
            value=cached.value,
            label=cached.label,
            explanation=cached.explanation,
            evaluator_version=_evaluator_version(job.judge_version, cached.model_reported),
            details={
                "job_id": job.job_id,
                "cached": True,
                "cached_at": cached.created_at.isoformat(),
                "model_reported": cached.model_reported,
                "rubric_version": rubric.version,
                "input_tokens": cached.input_tokens,
                "output_tokens": cached.output_tokens,
            },
            cost_usd=0.0,
            latency_ms=0.0,
            created_at=self.clock(),
        )


def judgment_score(job: jobs.Job, interaction: Interaction, j: Judgment, now: datetime) -> Score:
    """The judgment as its job's score: with the job and why it was sampled."""
    score = j.to_score(interaction.project, job.interaction_id)
    score.name = job.rubric
    score.details = {"job_id": job.job_id, **score.details, "sampled_because": job.reason}
    score.created_at = now
    return score


def _evaluator_version(judge_version: str, model_reported: str | None) -> str:
    return f"{judge_version} (reported {model_reported})" if model_reported else judge_version


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_worker(
    settings: Settings, store: Store, *, clock: Callable[[], datetime] = utc_now
) -> JudgeWorker:
    """The worker the settings describe: their provider, rubrics and limits."""
    judge = settings.judge
    grader = Grader(build_provider(judge), judge)
    rubrics = {rubric.name: rubric for rubric in selected_rubrics(judge)}
    from liveeval.flywheel.revalidation import Revalidator  # the flywheel builds on the judge

    revalidator = Revalidator(store, grader, settings, clock)
    return JudgeWorker(
        store,
        grader,
        rubrics,
        settings.worker,
        concurrency=judge.concurrency,
        clock=clock,
        gate=revalidator.held,
    )


class BackgroundWorker:
    """A judge worker on an event loop of its own, in a daemon thread: what `liveeval
    serve` runs, so judging never competes with the server's loop."""

    def __init__(self, worker: JudgeWorker) -> None:
        self.worker = worker
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="liveeval-judge", daemon=True)

    def start(self) -> BackgroundWorker:
        self._thread.start()
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._work())
        finally:
            self._loop.close()

    async def _work(self) -> None:
        try:
            await self.worker.run(self._stop)
        finally:
            await self.worker.grader.aclose()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)
