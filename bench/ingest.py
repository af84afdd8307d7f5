"""Ingest benchmark: 100,000 LLM spans over OTLP/HTTP protobuf into a real `liveeval serve`.

    python bench/ingest.py                 # SQLite, then PostgreSQL if reachable
    BENCH_WORKERS=1 python bench/ingest.py  # serve with one worker (default 2)
    python bench/ingest.py --spans 20000 --backend sqlite
    python bench/ingest.py --evaluation both  # without, then with checks and sampling

The server runs as its own process (`liveeval serve`), the sender as another; the
sender builds every batch first, then posts them over a few keep-alive
connections. Prints, per backend: end-to-end spans/s (first post to all
interactions queryable), the server's peak RSS, and stored bytes per span.
Prompts and completions are real sentences from ../shared/datasets/languages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT.parent / "shared" / "datasets" / "languages" / "en.txt"
POSTGRES_URL = os.environ.get(
    "LIVEEVAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MODELS = [
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("claude-sonnet-4", "claude-sonnet-4-20250514"),
]
ROUTES = ["support", "billing", "search", "onboarding"]
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # serve --workers: one per core here


def _text(rng: random.Random, sentences: list[str], chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = rng.choice(sentences)
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:chars]


def _kv(key: str, value: str | int | float | list[str]) -> KeyValue:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    array = AnyValue()
    array.array_value.values.extend(AnyValue(string_value=v) for v in value)
    return KeyValue(key=key, value=array)


def build_batches(spans: int, batch_size: int, seed: int = 7) -> list[bytes]:
    """Serialized ExportTraceServiceRequests of realistic GenAI chat spans."""
    rng = random.Random(seed)
    sentences = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines() if s.strip()]
    start = time.time_ns() - spans * 1_000_000
    batches = []
    for first in range(0, spans, batch_size):
        request = ExportTraceServiceRequest()
        resource_spans = ResourceSpans()
        resource_spans.resource.attributes.extend(
            [_kv("service.name", "bench-app"), _kv("deployment.environment", "bench")]
        )
        scope = ScopeSpans()
        scope.scope.name = "bench"
        for n in range(first, min(first + batch_size, spans)):
            requested, served = MODELS[n % len(MODELS)]
            prompt = _text(rng, sentences, 500)
            completion = _text(rng, sentences, 300)
            begin = start + n * 1_000_000
            span = Span(
                trace_id=rng.randbytes(16),
                span_id=rng.randbytes(8),
                name=f"chat {requested}",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=begin,
                end_time_unix_nano=begin + rng.randint(200, 4000) * 1_000_000,
            )
            span.attributes.extend(
                [
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.provider.name", "openai" if n % 2 == 0 else "anthropic"),
                    _kv("gen_ai.request.model", requested),
                    _kv("gen_ai.response.model", served),
                    _kv("gen_ai.response.id", f"resp-{uuid.UUID(int=rng.getrandbits(128)).hex}"),
                    _kv("gen_ai.response.finish_reasons", ["stop"]),
                    _kv("gen_ai.request.temperature", 0.2),
                    _kv("gen_ai.usage.input_tokens", len(prompt) // 4),
                    _kv("gen_ai.usage.output_tokens", len(completion) // 4),
                    _kv("gen_ai.conversation.id", f"conv-{n // 5}"),
                    _kv(
                        "gen_ai.input.messages",
                        json.dumps(
                            [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
                        ),
                    ),
                    _kv(
                        "gen_ai.output.messages",
                        json.dumps(
                            [
                                {
                                    "role": "assistant",
                                    "parts": [{"type": "text", "content": completion}],
                                    "finish_reason": "stop",
                                }
                            ]
                        ),
                    ),
                    _kv("liveeval.route", ROUTES[n % len(ROUTES)]),
                    _kv("liveeval.prompt.version", "v2" if n % 3 else "v1"),
                    _kv("user.id", f"user-{n % 997}"),
                    _kv("server.address", "api.example.com"),
                ]
            )
            scope.spans.append(span)
        resource_spans.scope_spans.append(scope)
        request.resource_spans.append(resource_spans)
        batches.append(request.SerializeToString())
    return batches


def send(url: str, batches: list[bytes], connections: int) -> tuple[float, float, int]:
    """Post every batch; (first post time, last ack time, retries after 503/429)."""
    retries = 0
    lock = threading.Lock()
    local = threading.local()

    def post(body: bytes) -> None:
        nonlocal retries
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
        while True:
            response = local.client.post(
                f"{url}/v1/traces",
                content=body,
                headers={"content-type": "application/x-protobuf"},
            )
            if response.status_code in (429, 503):
                with lock:
                    retries += 1
                time.sleep(float(response.headers.get("retry-after", "1")))
                continue
            response.raise_for_status()
            return

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(post, batches))
    return started, time.perf_counter(), retries


def sender_main(url: str, spans: int, batch_size: int, connections: int) -> None:
    batches = build_batches(spans, batch_size)
    print("ready", flush=True)
    sys.stdin.readline()
    started, finished, retries = send(url, batches, connections)
    print(json.dumps({"started": started, "finished": finished, "retries": retries}), flush=True)


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents first (serve, its workers and its evaluator)."""
    found = [pid]
    for process in found:
        for task in Path(f"/proc/{process}/task").glob("*"):
            try:
                found += [int(child) for child in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server: its own and its workers', added up."""
    total = 0
    for process in process_tree(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
                if os.environ.get("BENCH_VERBOSE"):
                    fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
                    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    print(
                        f"  pid {process}: peak RSS {int(line.split()[1]) / 1024:.0f} MB, "
                        f"CPU {cpu:.1f} s"
                    )
    return total / 1024


def start_server(
    db_url: str, env: dict[str, str], workers: int = WORKERS
) -> tuple[subprocess.Popen[str], str]:
    """`liveeval serve` on a free port; the process and its URL."""
    command = [sys.executable, "-m", "liveeval", "serve", "--port", "0", "--db", db_url]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    said = []  # serve prints its progress first, then the line with its address
    for line in server.stdout:
        said.append(line)
        match = re.search(r"http://\S+", line)
        if match:
            return server, match.group(0)
    server.kill()
    raise RuntimeError(f"liveeval serve did not start: {''.join(said)!r}")


def run(
    backend: str,
    spans: int,
    batch_size: int,
    connections: int,
    evaluate: bool = True,
    stored_before: int = 0,
) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "LIVEEVAL_EVALUATION": "background" if evaluate else "off",
    }
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if backend == "sqlite":
            db_url = f"sqlite:///{tmp}/bench.db"
        else:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            db_url = (
                sa.make_url(POSTGRES_URL)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        if stored_before:
            preload(db_url, schema, stored_before)
        server, url = start_server(db_url, env)
        try:
            sender = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--send",
                    url,
                    "--spans",
                    str(spans),
                    "--batch",
                    str(batch_size),
                    "--connections",
                    str(connections),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert sender.stdin is not None and sender.stdout is not None
            assert sender.stdout.readline().strip() == "ready"
            sender.stdin.write("go\n")
            sender.stdin.flush()
            timing = json.loads(sender.stdout.readline())
            sender.wait()
            counts = httpx.get(
                f"{url}/api/v1/interactions/counts",
                params={"by": "operation", "project": "bench-app"},
                timeout=300,
            ).json()
            queryable_at = time.perf_counter()
            stored = sum(row["count"] for row in counts)
            rss = peak_rss_mb(server.pid)
            evaluated_at = wait_for_evaluation(db_url) if evaluate else queryable_at
        finally:
            server.terminate()
            server.wait(timeout=30)
        if stored - stored_before != spans:
            raise RuntimeError(f"{stored - stored_before} interactions stored of {spans} sent")
        size, tables = _stored_bytes(db_url, tmp, schema)
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    elapsed = queryable_at - timing["started"]
    return {
        "evaluation_lag_s": evaluated_at - queryable_at,
        "spans_per_s": spans / elapsed,
        "seconds": elapsed,
        "peak_rss_mb": rss,
        # of the stored and the sent together
        "bytes_per_span": size / (spans + stored_before),
        "table_bytes_per_span": {
            name: (bytes_ / (spans + stored_before), indexes / (spans + stored_before))
            for name, (bytes_, indexes) in tables.items()
        },
        "retries": timing["retries"],
    }


SAMPLE_SPANS = 2_000  # spans ingested for real, then copied to fill a store


def preload(db_url: str, schema: str | None, count: int) -> None:
    """Fill a fresh store with `count` interactions (and their traces and spans) of the
    bench's project before the run, as a store that has been in use for months.

    SAMPLE_SPANS spans go through the real pipeline; SQL then copies those rows under new
    trace and span ids (md5 of the copy number and the old id) until `count` are stored.
    Nothing is queued for evaluation, and the monitor's rollups start after them. On
    PostgreSQL autovacuum is off for these tables
    (the server's own setting cannot change here) and nothing is analyzed: the planner
    sees a large table it has no statistics for, as on a fresh server.
    """
    from liveeval.config import Settings
    from liveeval.ingest.assemble import AssemblyRules
    from liveeval.ingest.otlp import spans_from_request
    from liveeval.ingest.pipeline import write_spans
    from liveeval.store.database import open_store

    started = time.perf_counter()
    store = open_store(db_url)
    try:
        if schema is not None:
            with store.writing() as conn:
                for (table,) in conn.execute(
                    sa.text("select tablename from pg_tables where schemaname = :s"), {"s": schema}
                ):
                    conn.exec_driver_sql(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        settings = Settings(db=db_url)
        for body in build_batches(SAMPLE_SPANS, 500, seed=3):
            request = ExportTraceServiceRequest.FromString(body)
            decoded = spans_from_request(
                request,
                project=None,
                default_project=settings.default_project,
                max_attribute_chars=settings.max_attribute_chars,
            )
            write_spans(store, decoded.records, AssemblyRules(), datetime.now(UTC))
        copies = -(-count // SAMPLE_SPANS) - 1
        with store.writing() as conn:
            for table, keys in (
                ("traces", ("trace_id",)),
                ("spans", ("trace_id", "span_id", "span_pk")),
                ("interactions", ("trace_id", "span_id", "interaction_id")),
            ):
                _copy_rows(conn, table, keys, copies, schema is None)
            excess = (copies + 1) * SAMPLE_SPANS - count
            conn.exec_driver_sql(
                "DELETE FROM interactions WHERE interaction_id IN (SELECT interaction_id "
                f"FROM interactions ORDER BY interaction_id DESC LIMIT {excess})"
            )
            # as if the monitor had rolled them up over the months they came in: it reads
            # only what arrives from now on (else its first tick backfills a million rows
            # on one of the bench's two cores)
            conn.exec_driver_sql(
                "INSERT INTO rollup_watermarks (source, last_id, gaps) "
                "SELECT 'interactions', max(interaction_id), '[]' FROM interactions"
            )
    finally:
        store.close()
    print(f"  stored {count:,} interactions first ({time.perf_counter() - started:.0f} s)")


def _copy_rows(
    conn: sa.Connection, table: str, keys: tuple[str, ...], copies: int, sqlite: bool
) -> None:
    """Copy every row of `table` `copies` times under new trace (and span) ids."""
    columns = [
        column
        for column in (
            [row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")]
            if sqlite
            else conn.execute(
                sa.text(
                    "select column_name from information_schema.columns where table_name = :t "
                    "and table_schema = current_schema() order by ordinal_position"
                ),
                {"t": table},
            ).scalars()
        )
        if column not in keys[2:]  # an autoincrement key is numbered anew
    ]
    if sqlite:  # no md5 in SQLite: random ids (the copies' traces are never read again)
        trace = "printf('%016x%016x', abs(random()), abs(random()))"
        span = "printf('%016x', abs(random()))"
        copies_from = (
            f"(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {copies}) "
            "SELECT n FROM g)"
        )
    else:
        trace = "md5(g.n::text || t.trace_id)"
        span = "left(md5(g.n::text || t.span_id), 16)"
        copies_from = f"generate_series(1, {copies})"
    chosen = [trace if c == "trace_id" else span if c == "span_id" else f"t.{c}" for c in columns]
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(chosen)} FROM {table} t CROSS JOIN {copies_from} AS g(n)"
    )


def wait_for_evaluation(db_url: str) -> float:
    """When the background evaluator has checked and sampled everything."""
    engine = sa.create_engine(db_url)
    try:
        while True:
            with engine.connect() as conn:
                left = conn.execute(sa.text("select count(*) from evaluation_queue")).scalar_one()
            if left == 0:
                return time.perf_counter()
            time.sleep(0.1)
    finally:
        engine.dispose()


def _stored_bytes(
    db_url: str, tmp: str, schema: str | None
) -> tuple[int, dict[str, tuple[int, int]]]:
    """All the store's bytes on disk, and the bytes of each table with its indexes (and, on
    PostgreSQL, its TOAST table) and of its indexes alone, largest first."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            if schema is None:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                # dbstat: every page of the file, named by its table or index
                rows = conn.exec_driver_sql(
                    "select coalesce(m.tbl_name, d.name), sum(d.pgsize), "
                    "sum(case when m.type = 'index' then d.pgsize else 0 end) from dbstat d "
                    "left join sqlite_master m on m.name = d.name group by 1"
                ).all()
            else:
                rows = conn.execute(
                    sa.text(
                        "select c.relname, pg_total_relation_size(c.oid), "
                        "pg_indexes_size(c.oid) from pg_class c "
                        "join pg_namespace n on n.oid = c.relnamespace "
                        "where n.nspname = :schema and c.relkind = 'r'"
                    ),
                    {"schema": schema},
                ).all()
    finally:
        engine.dispose()
    tables = {str(name): (int(size), int(indexes)) for name, size, indexes in rows if size}
    if schema is None:
        total = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))
    else:
        total = sum(size for size, _ in tables.values())
    return total, dict(sorted(tables.items(), key=lambda item: -item[1][0]))


def postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument(
        "--evaluation",
        choices=["on", "off", "both"],
        default="on",
        help="checks, evaluation events and sampling at ingest (default on); both: compare",
    )
    parser.add_argument(
        "--stored",
        type=int,
        default=0,
        metavar="N",
        help="interactions already stored before the run (e.g. 1000000)",
    )
    parser.add_argument("--send", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        sender_main(args.send, args.spans, args.batch, args.connections)
        return
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    print(f"{args.spans:,} spans, batches of {args.batch}, {args.connections} connections")
    for backend in backends:
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, no server at {POSTGRES_URL}")
            continue
        modes = {"on": [True], "off": [False], "both": [False, True]}[args.evaluation]
        rates = []
        for evaluate in modes:
            result = run(backend, args.spans, args.batch, args.connections, evaluate, args.stored)
            rates.append(result["spans_per_s"])
            print(
                f"{backend:<10}  evaluation {'on ' if evaluate else 'off'}  "
                f"{result['spans_per_s']:>9,.0f} spans/s  "
                f"({result['seconds']:.1f} s)  peak RSS {result['peak_rss_mb']:.0f} MB  "
                f"{result['bytes_per_span']:,.0f} bytes/span stored  "
                f"{result['retries']} retries after 503"
            )
            print(
                f"{'':<10}  bytes/span by table with its indexes (of which indexes): "
                + ", ".join(
                    f"{name} {per_span:,.0f} ({indexes:,.0f})"
                    for name, (per_span, indexes) in result["table_bytes_per_span"].items()
                    if per_span >= 5  # the rest: empty tables, a page or two each
                )
            )
            if evaluate:
                print(
                    f"{'':<10}  all checked and sampled {result['evaluation_lag_s']:.1f} s "
                    "after the last span was queryable"
                )
        if len(rates) == 2:
            print(f"{backend:<10}  evaluation costs {1 - rates[1] / rates[0]:.1%} of throughput")


if __name__ == "__main__":
    main()
