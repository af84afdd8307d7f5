"""Check-score writes: µs per interaction for `write_scores`, and the bytes they store.

    python bench/score_writes.py                        # SQLite, then PostgreSQL if reachable
    python bench/score_writes.py --backend postgresql --interactions 20000

Fills a fresh store with interactions, then writes four check scores for each (the
default checks' names, labels, explanations and details as the bench ingest stores
them), in batches of the background evaluator's size (256 interactions), each batch
its own transaction, and prints per interaction: the wall time of `write_scores`, this
process's CPU time for it and, on PostgreSQL, its server backend's (from /proc: the
server runs on this machine), then every batch once more (every score replaces itself:
the re-check of a re-assembled trace), and the bytes per interaction of the scores
table with its indexes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from evaluator import server_cpu
from liveeval.model import Interaction, Score, ScoreKind, ScoreStatus
from liveeval.store.database import open_store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span, write_scores
from soak import database, drop_schema

BATCH = 256
T0 = datetime(2026, 12, 1, tzinfo=UTC)
CHECKS = (
    ("not_empty", "pass", "The output has text.", {"output_chars": 300}),
    ("refusal", "pass", "The output does not refuse or deflect.", {}),
    (
        "length",
        "pass",
        "Input 500 chars, output 300 chars and 75 tokens (usage): within bounds.",
        {
            "input_chars": 500,
            "output_chars": 300,
            "output_tokens": 75,
            "output_tokens_source": "usage",
            "input_tokens": 125,
            "input_tokens_source": "usage",
            "truncated": False,
        },
    ),
    (
        "language",
        "en->en",
        "Asked and answered in English (en).",
        {
            "input_language": "en",
            "input_confidence": 1.0,
            "output_language": "en",
            "output_confidence": 0.9101,
        },
    ),
)


def stored(url: str, count: int) -> list[int]:
    store = open_store(url)
    batch = [
        Interaction(
            project="bench-app",
            trace_id=f"{n:032x}",
            span_id=f"{n:016x}",
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=T0,
            end_at=T0 + timedelta(milliseconds=500),
            latency_ms=500.0,
            status="ok",
            input_text=f"question {n}",
            output_text=f"answer {n}",
        )
        for n in range(count)
    ]
    ids: list[int] = []
    for start in range(0, count, 2_000):
        part = batch[start : start + 2_000]
        with store.writing() as conn:
            upsert_interactions(conn, part, T0)
            found = interaction_ids_by_span(conn, "bench-app", [i.trace_id for i in part])
        ids += [found[(i.trace_id, i.span_id)] for i in part]
    store.close()
    return ids


def checks_of(iid: int) -> tuple[list[Score], list[str]]:
    scores = [
        Score(
            project="bench-app",
            interaction_id=iid,
            name=name,
            kind=ScoreKind.CHECK,
            value=1.0,
            label=label,
            explanation=explanation,
            status=ScoreStatus.OK,
            evaluator_version=f"liveeval/{name}@0.1.0",
            details={"passed": True, **details},
            created_at=T0,
        )
        for name, label, explanation, details in CHECKS
    ]
    return scores, [f"check:{iid}:{name}" for name, *_ in CHECKS]


def write_all(url: str, ids: list[int]) -> tuple[float, float, float]:
    """Seconds of wall, of this process's CPU and of the PostgreSQL backend's CPU (0 on
    SQLite) in write_scores, over every batch."""
    store = open_store(url)
    wall = cpu = server = 0.0
    for start in range(0, len(ids), BATCH):
        scores: list[Score] = []
        keys: list[str] = []
        for iid in ids[start : start + BATCH]:
            more, more_keys = checks_of(iid)
            scores += more
            keys += more_keys
        with store.writing() as conn:
            pids = []
            if conn.dialect.name == "postgresql":
                pids = [int(conn.exec_driver_sql("select pg_backend_pid()").scalar_one())]
            server_0 = server_cpu(pids)
            wall_0, cpu_0 = time.perf_counter(), time.process_time()
            write_scores(conn, scores, keys)
            wall += time.perf_counter() - wall_0
            cpu += time.process_time() - cpu_0
            server += server_cpu(pids) - server_0
    store.close()
    return wall, cpu, server


def scores_bytes(url: str, schema: str | None) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if schema is None:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size = conn.exec_driver_sql(
                "select sum(d.pgsize) from dbstat d join sqlite_master m on m.name = d.name "
                "where m.tbl_name = 'scores'"
            ).scalar_one()
        else:
            size = conn.exec_driver_sql("select pg_total_relation_size('scores')").scalar_one()
    engine.dispose()
    return int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    n = args.interactions
    print(f"{n:,} interactions, 4 check scores each, batches of {BATCH} interactions")
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            url, schema = database(backend, tmp)
            try:
                ids = stored(url, n)
                first = write_all(url, ids)
                again = write_all(url, ids)
                size = scores_bytes(url, schema)
            finally:
                if schema is not None:
                    drop_schema(schema)
        for what, (wall, cpu, server) in (("new", first), ("rewritten", again)):
            print(
                f"{backend:<10}  {what:<9}  {wall / n * 1e6:6.1f} µs/interaction wall  "
                f"CPU {cpu / n * 1e6:6.1f} µs this process, {server / n * 1e6:6.1f} µs server"
            )
        print(f"{backend:<10}  scores table with its indexes: {size / n:,.0f} bytes/interaction")


if __name__ == "__main__":
    main()
