"""Background evaluation: the cheap checks and the sampling decision, just after ingest.

The checks cost up to ~200 µs an interaction, about as much as ingesting it; run
inside the ingest transaction they would halve ingest throughput. So by default
ingest only queues the interaction (`evaluation_queue`), and this evaluator takes
the queue in batches: checks outside the write lock, then scores, decisions and
judge jobs in one transaction. `liveeval serve` runs it as a process of its own at
the lowest CPU priority: under a burst ingest keeps its speed and scores lag behind, then
catch up. Running it twice at once does no harm: every write is idempotent.

    python -m liveeval.ingest.evaluator   # settings as JSON in LIVEEVAL_EVALUATOR_SETTINGS
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

# The checks, the sampling and the store are imported where they run: `serve` imports
# this module for READY and SETTINGS_VARIABLE, and with N workers it runs no checks.
if TYPE_CHECKING:
    from liveeval.ingest.scoring import Checked, OnlineEvaluation, Plan
    from liveeval.model import Interaction
    from liveeval.store.database import Store

log = logging.getLogger(__name__)
SETTINGS_VARIABLE = "LIVEEVAL_EVALUATOR_SETTINGS"
READY = "liveeval evaluator ready"
BATCH = 32  # interactions per write transaction: the write lock is held a few ms
# PostgreSQL has no store-wide write lock to keep short, and each statement is a round
# trip: larger batches take the queue about 45% faster (bench: 1,146 -> 1,646 a second)
POSTGRES_BATCH = 256


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Pending:
    """A batch taken from the queue, with what its evaluation reads."""

    taken: list[tuple[int, datetime]]  # (interaction_id, enqueued_at), for `done`
    by_project: dict[str, list[Interaction]]
    kinds: dict[int, set[str]]  # the kinds of signal each interaction has drawn


def evaluate_pending(
    store: Store,
    evaluation: OnlineEvaluation,
    clock: Callable[[], datetime] = utc_now,
    limit: int = BATCH,
) -> int:
    """Evaluate up to `limit` queued interactions; returns how many were taken."""
    pending = read_pending(store, limit)
    if pending is None:
        return 0
    results = check_pending(evaluation, pending)
    now = clock()
    write_pending(
        store, evaluation, pending, plan_pending(store, evaluation, pending, results, now), now
    )
    return len(pending.taken)


def read_pending(store: Store, limit: int) -> Pending | None:
    """The first `limit` queued interactions and their signal kinds; None when none wait."""
    from liveeval.store import evaluation_queue
    from liveeval.store.interactions import get_interactions

    with store.reading() as conn:
        taken = evaluation_queue.pending(conn, limit)
        if not taken:
            return None
        found = get_interactions(conn, [iid for iid, _ in taken])
        kinds = evaluation_queue.signal_kinds(conn, list(found))
    by_project: dict[str, list[Interaction]] = defaultdict(list)
    for interaction in found.values():
        by_project[interaction.project].append(interaction)
    return Pending(taken, dict(by_project), kinds)


def check_pending(evaluation: OnlineEvaluation, pending: Pending) -> dict[str, list[Checked]]:
    """The checks' results of each project's interactions (pure, no store)."""
    from liveeval.ingest.scoring import run_checks

    return {project: run_checks(evaluation, batch) for project, batch in pending.by_project.items()}


def plan_pending(
    store: Store,
    evaluation: OnlineEvaluation,
    pending: Pending,
    results: dict[str, list[Checked]],
    now: datetime,
) -> list[Plan]:
    """Each project's plan: everything but the inserts, outside the write lock."""
    from liveeval.ingest.scoring import plan_evaluation

    with store.reading() as conn:
        return [
            plan_evaluation(
                conn,
                evaluation,
                project,
                batch,
                results[project],
                (),
                now,
                {(i.trace_id, i.span_id): i.interaction_id or 0 for i in batch},
                pending.kinds,
            )
            for project, batch in pending.by_project.items()
        ]


def write_pending(
    store: Store, evaluation: OnlineEvaluation, pending: Pending, plans: list[Plan], now: datetime
) -> None:
    """The plans' rows in one transaction, and the batch off the queue."""
    from liveeval.ingest.scoring import write_plan
    from liveeval.store import evaluation_queue

    with store.writing() as conn:
        for plan in plans:
            write_plan(conn, evaluation, plan, now)
        evaluation_queue.done(conn, pending.taken)


def run(store: Store, evaluation: OnlineEvaluation, stop: threading.Event, idle_s: float) -> None:
    """Evaluate until `stop` is set, resting `idle_s` whenever the queue is empty."""
    batch = BATCH if store.engine.dialect.name == "sqlite" else POSTGRES_BATCH
    while not stop.is_set():
        try:
            if evaluate_pending(store, evaluation, limit=batch) == 0:
                stop.wait(idle_s)
        except Exception:  # the store is unreachable: try again shortly
            log.exception("background evaluation failed; retrying")
            stop.wait(idle_s * 10)


def lower_priority() -> None:
    """Run only on CPU time ingest leaves: a burst is ingested at full speed, and the
    checks catch up after it."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def main() -> None:
    """The evaluator process `serve` starts: settings from the environment, lowest CPU
    priority (SCHED_IDLE where the OS has it, else nice 19)."""
    from liveeval.config import Settings
    from liveeval.config.settings import ConfigError
    from liveeval.ingest.scoring import OnlineEvaluation
    from liveeval.store.database import open_store

    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    lower_priority()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    evaluation = OnlineEvaluation.from_settings(settings)
    try:
        evaluation.checks  # noqa: B018  (build the suite now: a bad [checks] stops serve)
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    store = open_store(settings.db, migrate=False)
    print(READY, flush=True)
    try:
        run(store, evaluation, stop, idle_s=0.2)
    finally:
        store.close()


if __name__ == "__main__":
    main()
