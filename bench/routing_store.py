"""A routed task's policy refresh on the server: CPU to read what N decisions earned from
the store (`outcomes_between`) and to compute the snapshot from them (`compute_snapshot`,
the read plus `learn`), on SQLite and PostgreSQL.

    python bench/routing_store.py                       # 30,000 decisions, both stores
    python bench/routing_store.py --decisions 100000 --backend sqlite

Each decision has its outcome signal, named a third each by decision id, by trace and by
goal (the three ways an outcome reaches a decision), with two slices of context. Prints
this process's CPU time and the wall time of each step, best of --rounds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from liveeval.model import Signal, SignalKind
from liveeval.routing.config import from_mapping
from liveeval.routing.stored import compute_snapshot
from liveeval.store.database import open_store
from liveeval.store.routing import Decision, outcomes_between, record_decisions
from liveeval.store.signals import record_signal
from soak import database, drop_schema

T0 = datetime(2026, 12, 1, tzinfo=UTC)
TASK = from_mapping(
    "answer",
    {
        "default": "a",
        "arms": [{"name": name, "model": name} for name in ("a", "b", "c")],
        "reward": {"kind": "success"},
        "slices": ["language"],
    },
)


def fill(url: str, n: int) -> None:
    store = open_store(url)
    decisions = [
        Decision(
            decision_id=f"{i:032x}",
            project="p",
            task="answer",
            arm="abc"[i % 3],
            probability=1 / 3,
            policy_version=1,
            slice="*",
            decided_at=T0 + timedelta(seconds=i),
            context={"language": ("de", "en")[i % 2]},
            trace_id=f"{i + 10**9:032x}",
            goal_id=f"g{i}",
        )
        for i in range(n)
    ]
    with store.writing() as conn:
        record_decisions(conn, decisions)
        for i, decision in enumerate(decisions):
            way = i % 3
            details = (
                {"decision_id": decision.decision_id}
                if way == 0
                else {"goal_id": decision.goal_id}
                if way == 1
                else {}
            )
            signal = Signal(
                "p",
                SignalKind.OUTCOME,
                decision.decided_at,
                trace_id=decision.trace_id if way == 2 else None,
                value=float(i % 5 != 0),
                details=details,
            )
            record_signal(conn, signal, decision.decided_at)
    store.close()


def timed(step: object, rounds: int) -> tuple[float, float, object]:
    best_cpu, best_wall, result = float("inf"), float("inf"), None
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        result = step()  # type: ignore[operator]
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall, result


def measure(backend: str, n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = database(backend, tmp)
        try:
            fill(url, n)
            store = open_store(url)
            end = T0 + timedelta(seconds=n + 1)
            with store.reading() as conn:
                read_cpu, read_wall, outcomes = timed(
                    lambda: outcomes_between(conn, "p", TASK.task, T0, end), rounds
                )
                snap_cpu, snap_wall, _ = timed(
                    lambda: compute_snapshot(conn, "p", TASK, end, 1), rounds
                )
            store.close()
        finally:
            if schema is not None:
                drop_schema(schema)
    count = len(outcomes)  # type: ignore[arg-type]
    print(
        f"{backend:10} {n:>7} decisions ({count} with outcomes): "
        f"outcomes_between {read_cpu:.3f} s CPU ({read_wall:.3f} wall), "
        f"compute_snapshot {snap_cpu:.3f} s CPU ({snap_wall:.3f} wall)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=30_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        measure(backend, args.decisions, args.rounds)


if __name__ == "__main__":
    main()
