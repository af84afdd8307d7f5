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
from datetime import UTC, datetime
from typing import TYPE_CHECKING

# The checks, the sampling and the store are imported where they run: `serve` imports
# this module for READY and SETTINGS_VARIABLE, and with N workers it runs no checks.
if TYPE_CHECKING:
    from liveeval.ingest.scoring import OnlineEvaluation
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


def evaluate_pending(
    store: Store,
    evaluation: OnlineEvaluation,
    clock: Callable[[], datetime] = utc_now,
    limit: int = BATCH,
) -> int:
    """Evaluate up to `limit` queued interactions; returns how many were taken."""
    from liveeval.ingest.scoring import plan_evaluation, run_checks, write_plan
    from liveeval.model import Interaction
    from liveeval.store import evaluation_queue
    from liveeval.store.interactions import get_interactions

    with store.reading() as conn:
        taken = evaluation_queue.pending(conn, limit)
        if not taken:
            return 0
        found = get_interactions(conn, [iid for iid, _ in taken])
        kinds = evaluation_queue.signal_kinds(conn, list(found))
    by_project: dict[str, list[Interaction]] = defaultdict(list)
    for interaction in found.values():
        by_project[interaction.project].append(interaction)
    now = clock()
    with store.reading() as conn:  # everything but the inserts, outside the write lock
        plans = [
            plan_evaluation(
                conn,
                evaluation,
                project,
                batch,
                run_checks(evaluation, batch),
                (),
                now,
                {(i.trace_id, i.span_id): iid for iid, i in found.items() if i.project == project},
                kinds,
            )
            for project, batch in by_project.items()
        ]
    with store.writing() as conn:
        for plan in plans:
            write_plan(conn, evaluation, plan, now)
        evaluation_queue.done(conn, taken)
    return len(taken)


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
