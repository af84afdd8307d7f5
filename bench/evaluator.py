"""Background evaluator benchmark: CPU per interaction to drain the evaluation queue.

    python bench/evaluator.py                          # SQLite, 4,000 interactions
    python bench/evaluator.py --backend postgresql     # a fresh schema on the local server
    python bench/evaluator.py --interactions 2000 --batch 64 --rounds 5

Fills a fresh store with real interactions (bench/checks.py's mix of chat in 16
languages, short questions, instructions and retrieval summaries from
../shared/datasets), stored and queued as ingest stores and queues them; 1 in 20
draws a thumbs-down signal first. Then drains the queue with the evaluator's own
phases (`read_pending`, `check_pending`, `plan_pending`, `write_pending`, which
`evaluate_pending` runs in turn) at the evaluator's batch size, and prints
interactions/s and this process's CPU µs per interaction (`time.process_time`) split
by phase, each the best of `--rounds` fresh stores (on a busy machine the CPU time of
the same code varies by half). On PostgreSQL it adds the CPU its server backends spent (from
/proc/<pid>/stat of the connections' backends), per phase too. The judge is on
(provider openai, no calls are made) so sampled interactions get judge jobs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from checks import build_interactions
from liveeval.config import Settings
from liveeval.ingest.evaluator import (
    BATCH,
    POSTGRES_BATCH,
    check_pending,
    plan_pending,
    read_pending,
    write_pending,
)
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.model import Interaction, Signal, SignalKind
from liveeval.store import evaluation_queue
from liveeval.store.database import Store, open_store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.signals import record_signal
from soak import database, drop_schema

PHASES = ("read", "checks", "plan", "write")
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SIGNAL_EVERY = 20
TICKS = os.sysconf("SC_CLK_TCK")


def fill(store: Store, interactions: list[Interaction]) -> None:
    """Store and queue the interactions in ingest-sized batches, with some signals."""
    for start in range(0, len(interactions), 512):
        batch = interactions[start : start + 512]
        with store.writing() as conn:
            ids = upsert_interactions(conn, batch, NOW)
            evaluation_queue.enqueue(conn, "bench", ids.values(), NOW)
            for n, interaction in enumerate(batch):
                if n % SIGNAL_EVERY == 0:
                    key = (interaction.trace_id, interaction.span_id)
                    record_signal(conn, _thumbs_down(interaction, ids[key]), NOW)


def _thumbs_down(interaction: Interaction, iid: int) -> Signal:
    return Signal(
        project="bench",
        kind=SignalKind.THUMBS_DOWN,
        occurred_at=NOW,
        interaction_id=iid,
        trace_id=interaction.trace_id,
    )


def backend_pids(store: Store) -> list[int]:
    """The server processes behind the pool's connections (PostgreSQL), after one use each."""
    pids = []
    with store.reading() as a, store.reading() as b:
        for conn in (a, b):
            pids.append(int(conn.execute(sa.text("select pg_backend_pid()")).scalar_one()))
    return pids


def server_cpu(pids: list[int]) -> float:
    """Seconds of CPU (user + system) the processes have used."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def drain(
    store: Store, evaluation: OnlineEvaluation, limit: int, server: Callable[[], float]
) -> tuple[int, float, dict[str, float], dict[str, float]]:
    """(interactions, wall seconds, CPU seconds per phase here, per phase on the server)."""
    here = dict.fromkeys(PHASES, 0.0)
    there = dict.fromkeys(PHASES, 0.0)
    count = 0
    now = NOW + timedelta(minutes=1)

    def timed(phase: str, work: Callable[[], Any]) -> Any:
        cpu, srv = time.process_time(), server()
        result = work()
        here[phase] += time.process_time() - cpu
        there[phase] += server() - srv
        return result

    started = time.perf_counter()
    while True:
        pending = timed("read", lambda: read_pending(store, limit))
        if pending is None:
            break
        results = timed("checks", lambda p=pending: check_pending(evaluation, p))
        plans = timed(
            "plan", lambda p=pending, r=results: plan_pending(store, evaluation, p, r, now)
        )
        timed("write", lambda p=pending, q=plans: write_pending(store, evaluation, p, q, now))
        count += len(pending.taken)
    return count, time.perf_counter() - started, here, there


def measure(
    backend: str, interactions: list[Interaction], evaluation: OnlineEvaluation, limit: int
) -> tuple[int, float, dict[str, float], dict[str, float]]:
    """One round: a fresh store filled and drained (see `drain`)."""
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = database(backend, tmp)
        store = open_store(url)
        try:
            fill(store, interactions)
            pids = backend_pids(store) if backend == "postgresql" else []
            return drain(store, evaluation, limit, lambda: server_cpu(pids))
        finally:
            store.close()
            if schema is not None:
                drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--interactions", type=int, default=4000)
    parser.add_argument("--batch", type=int, help="default: the evaluator's for the backend")
    parser.add_argument("--rounds", type=int, default=3, help="fresh stores; each phase's best")
    args = parser.parse_args()
    limit = args.batch or (BATCH if args.backend == "sqlite" else POSTGRES_BATCH)
    routes = ("support", "billing", "search")
    interactions = [
        replace(interaction, route=routes[n % len(routes)])
        for n, interaction in enumerate(build_interactions(args.interactions))
    ]
    evaluation = OnlineEvaluation.from_settings(
        Settings.model_validate({"judge": {"provider": "openai", "model": "gpt-4o-mini"}})
    )
    evaluation.checks  # noqa: B018  (build the suite and its language model before timing)
    rounds = [measure(args.backend, interactions, evaluation, limit) for _ in range(args.rounds)]
    count = rounds[0][0]
    wall = min(r[1] for r in rounds)
    here = {p: min(r[2][p] for r in rounds) for p in PHASES}
    there = {p: min(r[3][p] for r in rounds) for p in PHASES}
    load = os.getloadavg()
    print(
        f"{args.backend}: {count} interactions in batches of {limit}, best of {args.rounds}: "
        f"{count / wall:,.0f}/s wall (load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    print(f"{'CPU µs/interaction':<22}" + "".join(f"{p:>9}" for p in (*PHASES, "total")))
    server = [("postgres server", there)] if args.backend == "postgresql" else []
    rows = [("evaluator", here), *server]
    for name, spent in rows:
        figures = [spent[p] / count * 1e6 for p in PHASES]
        print(f"{name:<22}" + "".join(f"{f:>9.0f}" for f in (*figures, sum(figures))))
    outside = sum(here[p] for p in PHASES if p != "checks") / count * 1e6
    print(f"evaluator CPU outside the checks: {outside:.0f} µs/interaction")


if __name__ == "__main__":
    main()
