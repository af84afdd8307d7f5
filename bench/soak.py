"""Soak benchmark: a steady stream of LLM spans and signals into a real `liveeval serve`.

    python bench/soak.py                                   # SQLite, 2,000 spans/s, 30 min
    python bench/soak.py --backend postgresql --workers 2
    python bench/soak.py --rate 500 --minutes 3            # a quick look

The server runs as its own process with background evaluation (the default); a sender
process posts OTLP/HTTP protobuf batches on a fixed schedule (--rate spans a second, in
batches of --batch) and a thumbs signal for one span in 20 (REST, batched) naming its
trace. Every 5 s the bench scrapes `/metrics` for the evaluation lag (how long the first
interaction still waiting for its checks has waited) and reads the server's RSS (its own
and its children's). At the end it waits for the queue to drain and checks that every
span sent is stored and every signal attached.

Prints: the rate reached, lag p50 / p99 / max over the run, RSS after warm-up (the first
fifth of the run) and at the end and their ratio, the p50 / p99 of the sender's request
latency, and whether anything was lost. Targets (issue 17): lag p99 ≤ 60 s, RSS flat
within 10% after warm-up, nothing lost. Texts are real sentences from
../shared/datasets/languages (see bench/ingest.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from ingest import (
    MODELS,
    POSTGRES_URL,
    ROUTES,
    SENTENCES,
    _kv,
    _text,
    process_tree,
    start_server,
)

PROJECT = "bench-app"
SCRAPE_S = 5.0
SIGNAL_EVERY = 20  # one span in 20 draws a thumbs signal
LAG_BUDGET_S = 60.0
RSS_BUDGET = 0.10


def chat_batch(rng: random.Random, sentences: list[str], count: int) -> tuple[bytes, list[str]]:
    """One ExportTraceServiceRequest of `count` chat spans ending now; their trace ids."""
    request = ExportTraceServiceRequest()
    resource_spans = ResourceSpans()
    resource_spans.resource.attributes.extend([_kv("service.name", PROJECT)])
    scope = ScopeSpans()
    scope.scope.name = "soak"
    now = time.time_ns()
    traces = []
    for _ in range(count):
        n = rng.randrange(1_000_000)
        requested, served = MODELS[n % len(MODELS)]
        prompt, completion = _text(rng, sentences, 400), _text(rng, sentences, 250)
        trace = rng.randbytes(16)
        traces.append(trace.hex())
        span = Span(
            trace_id=trace,
            span_id=rng.randbytes(8),
            name=f"chat {requested}",
            kind=Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=now - rng.randint(200, 4000) * 1_000_000,
            end_time_unix_nano=now,
        )
        span.attributes.extend(
            [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.provider.name", "openai"),
                _kv("gen_ai.request.model", requested),
                _kv("gen_ai.response.model", served),
                _kv("gen_ai.response.id", f"resp-{uuid.UUID(int=rng.getrandbits(128)).hex}"),
                _kv("gen_ai.usage.input_tokens", len(prompt) // 4),
                _kv("gen_ai.usage.output_tokens", len(completion) // 4),
                _kv(
                    "gen_ai.input.messages",
                    json.dumps([{"role": "user", "parts": [{"type": "text", "content": prompt}]}]),
                ),
                _kv(
                    "gen_ai.output.messages",
                    json.dumps(
                        [{"role": "assistant", "parts": [{"type": "text", "content": completion}]}]
                    ),
                ),
                _kv("liveeval.route", ROUTES[n % len(ROUTES)]),
                _kv("liveeval.prompt.version", "v2"),
                _kv("user.id", f"user-{n % 997}"),
            ]
        )
        scope.spans.append(span)
    resource_spans.scope_spans.append(scope)
    request.resource_spans.append(resource_spans)
    return request.SerializeToString(), traces


def sender_main(url: str, rate: float, batch: int, seconds: float) -> None:
    """Post `rate` spans a second for `seconds`, on schedule; print what was sent."""
    rng = random.Random(11)
    sentences = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines() if s.strip()]
    interval = batch / rate
    latencies: list[float] = []
    sent = signals = late = 0
    with httpx.Client(timeout=120) as client:
        start = time.perf_counter()
        due = start
        while due - start < seconds:
            body, traces = chat_batch(rng, sentences, batch)
            began = time.perf_counter()
            response = client.post(
                f"{url}/v1/traces", content=body, headers={"content-type": "application/x-protobuf"}
            )
            response.raise_for_status()
            latencies.append(time.perf_counter() - began)
            sent += len(traces)
            thumbs = [
                {"kind": "thumbs_down" if n % 3 else "thumbs_up", "trace_id": trace}
                for n, trace in enumerate(traces)
                if rng.randrange(SIGNAL_EVERY) == 0
            ]
            if thumbs:
                client.post(
                    f"{url}/api/v1/signals/batch",
                    json={"signals": thumbs},
                    headers={"x-liveeval-project": PROJECT},
                ).raise_for_status()
                signals += len(thumbs)
            due += interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            else:
                late += 1
        elapsed = time.perf_counter() - start
    latencies.sort()
    print(
        json.dumps(
            {
                "sent": sent,
                "signals": signals,
                "elapsed": elapsed,
                "late_batches": late,
                "p50_ms": 1000 * latencies[len(latencies) // 2],
                "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            }
        ),
        flush=True,
    )


def process_name(pid: int) -> str:
    """What a process of the server's tree is: serve, the evaluator, or a worker."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"liveeval.ingest.evaluator" in command:
        return f"evaluator {pid}"
    if b"serve" in command:
        return "serve"
    return f"worker {pid}"


def rss_by_process(pid: int) -> dict[str, float]:
    """Resident memory now (MB) of the server and each of its children."""
    found = {}
    for process in process_tree(pid):
        try:
            status = Path(f"/proc/{process}/status").read_text()
            name = process_name(process)
        except (FileNotFoundError, ProcessLookupError):
            continue
        kb = next(int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:")
        found[name] = kb / 1024
    return found


def scrape_lag(client: httpx.Client, url: str) -> tuple[float, float]:
    """(evaluation lag in seconds, interactions waiting) from /metrics."""
    values = {}
    for line in client.get(f"{url}/metrics").text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("liveeval_evaluation_lag_seconds", "liveeval_evaluation_backlog"):
            values[name] = float(value)
    return values["liveeval_evaluation_lag_seconds"], values["liveeval_evaluation_backlog"]


def count_stored(db_url: str) -> tuple[int, int]:
    """(interactions, signals attached to one) stored."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("select count(*) from interactions")).scalar_one()
            attached = conn.execute(
                sa.text("select count(*) from signals where interaction_id is not null")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(stored), int(attached)


def database(backend: str, tmp: str) -> tuple[str, str | None]:
    """A fresh store's URL, and the PostgreSQL schema made for it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp}/soak.db", None
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(schema: str) -> None:
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def run(args: argparse.Namespace) -> None:
    seconds = args.minutes * 60
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        db_url, schema = database(args.backend, tmp)
        server, url = start_server(db_url, env, args.workers)
        samples: list[tuple[float, float, float, float]] = []  # (t, lag, backlog, rss)
        processes: list[dict[str, float]] = []  # RSS per process, one per sample
        try:
            sender = subprocess.Popen(
                [
                    *(sys.executable, __file__, "--send", url, "--rate", str(args.rate)),
                    *("--batch", str(args.batch), "--minutes", str(args.minutes)),
                ],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert sender.stdout is not None
            begun = time.perf_counter()
            with httpx.Client(timeout=60) as client:
                while sender.poll() is None:
                    time.sleep(SCRAPE_S)
                    lag, backlog = scrape_lag(client, url)
                    at = time.perf_counter() - begun
                    processes.append(rss_by_process(server.pid))
                    samples.append((at, lag, backlog, sum(processes[-1].values())))
                    if args.verbose:
                        each = ", ".join(f"{k} {v:.0f}" for k, v in processes[-1].items())
                        print(
                            f"  {at:6.0f} s  lag {lag:5.1f} s  backlog {backlog:7.0f}  "
                            f"RSS {samples[-1][3]:6.0f} MB ({each})",
                            flush=True,
                        )
                sent = json.loads(sender.stdout.read())
                drained_at = time.perf_counter()
                while scrape_lag(client, url)[1] > 0:
                    time.sleep(1)
                drain_s = time.perf_counter() - drained_at
        finally:
            server.terminate()
            server.wait(timeout=60)
        stored, attached = count_stored(db_url)
        if schema is not None:
            drop_schema(schema)
    report(args, sent, samples, processes, drain_s, stored, attached, seconds)


def report(
    args: argparse.Namespace,
    sent: dict[str, float],
    samples: list[tuple[float, float, float, float]],
    processes: list[dict[str, float]],
    drain_s: float,
    stored: int,
    attached: int,
    seconds: float,
) -> None:
    lags = [lag for _, lag, _, _ in samples]
    warm = [i for i, (at, *_) in enumerate(samples) if at >= seconds / 5]
    first, last = (warm[0], warm[-1]) if warm else (0, 0)
    after_warmup, at_end = (samples[first][3], samples[last][3]) if warm else (0.0, 0.0)
    growth = at_end / after_warmup - 1 if after_warmup else 0.0
    load = os.getloadavg()
    print(
        f"{args.backend}, {args.workers} worker(s): {sent['sent'] / sent['elapsed']:,.0f} spans/s "
        f"for {sent['elapsed'] / 60:.1f} min (asked {args.rate:,.0f}; "
        f"{sent['late_batches']} batches late), {sent['signals']:,.0f} signals"
    )
    print(
        f"  evaluation lag: p50 {statistics.median(lags) if lags else 0:.1f} s, "
        f"p99 {percentile(lags, 0.99):.1f} s, max {max(lags, default=0):.1f} s "
        f"(budget p99 {LAG_BUDGET_S:.0f} s); queue drained {drain_s:.0f} s after the last span"
    )
    print(
        f"  RSS after warm-up {after_warmup:.0f} MB, at the end {at_end:.0f} MB "
        f"({growth:+.1%}; budget ±{RSS_BUDGET:.0%}), "
        f"peak {max((s[3] for s in samples), default=0):.0f} MB"
    )
    if warm:
        each = [
            f"{name} {rss:.0f} → {processes[last].get(name, 0):.0f}"
            for name, rss in processes[first].items()
        ]
        print(f"  RSS per process after warm-up → at the end (MB): {', '.join(each)}")
    print(f"  ingest request latency p50 {sent['p50_ms']:.0f} ms, p99 {sent['p99_ms']:.0f} ms")
    lost = int(sent["sent"]) - stored
    print(
        f"  stored {stored:,} of {int(sent['sent']):,} spans "
        f"({'nothing lost' if lost == 0 else f'{lost} LOST'}), "
        f"{attached:,} of {int(sent['signals']):,} signals attached"
    )
    print(f"  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=2000.0, help="spans a second")
    parser.add_argument("--batch", type=int, default=200, help="spans a request")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers")
    parser.add_argument("--verbose", action="store_true", help="print every sample")
    parser.add_argument("--send", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        sender_main(args.send, args.rate, args.batch, args.minutes * 60)
        return
    run(args)


if __name__ == "__main__":
    main()
