"""SDK benchmark: what `llm_call()` costs an app per span, against plain OpenTelemetry.

    python bench/sdk.py                     # per-span cost, then a 50,000-span burst
    python bench/sdk.py --part cost --spans 2000 --rounds 7
    python bench/sdk.py --part burst --burst 50000 --max-queue 2048

Both parts export over OTLP/HTTP protobuf to a minimal receiver running as its own
process (it decodes every request and counts the spans in it, nothing else), so the
figures are the app's side alone. "plain" is a tracer span with exactly the attributes
the SDK records (taken from one SDK span, JSON already encoded), a `BatchSpanProcessor`
and the OTLP exporter, as OpenTelemetry's docs set it up; "sdk" is `le.setup()` then
`le.llm_call(...)` with `input_messages` and `call.set_output(...)` as an app writes it.

Per-span cost: µs per span in the app thread (the loop, while the export thread runs
beside it) and with the export finished (loop + flush), best of `--rounds`.
Burst: each variant in a fresh process sends `--burst` spans as fast as it can, then
shuts its provider down; prints spans sent / received / dropped, the slowest span
(back-pressure shows there) and the sender's peak RSS.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT.parent / "shared" / "datasets" / "languages" / "en.txt"

MODEL = "gpt-4o-mini"


def _texts() -> tuple[str, str, str]:
    """A system prompt, a question and an answer of realistic length (~100, 300, 600 chars)."""
    if SENTENCES.exists():
        lines = [s.strip() for s in SENTENCES.read_text(encoding="utf-8").splitlines()]
        lines = [s for s in lines if s]
    else:
        lines = ["The order ships tomorrow from the warehouse in Leeds."] * 40
    text = " ".join(lines[:60])
    return text[:100], text[100:400], text[400:1000]


SYSTEM, QUESTION, ANSWER = _texts()


def sdk_call(le: Any, provider: Any, n: int) -> None:
    with le.llm_call(
        MODEL,
        provider="openai",
        route="support",
        prompt_version="v2",
        user_id=f"u-{n % 100}",
        input_messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": QUESTION},
        ],
        tracer_provider=provider,
    ) as call:
        call.set_output(
            ANSWER,
            response_id="chatcmpl-1",
            response_model="gpt-4o-mini-2024-07-18",
            finish_reason="stop",
            input_tokens=120,
            output_tokens=150,
        )


def reference_attributes() -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes one SDK span records: (those known at the start, those set after)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import liveeval.sdk as le

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sdk_call(le, provider, 0)
    (span,) = exporter.get_finished_spans()
    provider.shutdown()
    attributes = dict(span.attributes or {})
    after = ("gen_ai.output.", "gen_ai.response.", "gen_ai.usage.")
    start = {k: v for k, v in attributes.items() if not k.startswith(after)}
    end = {k: v for k, v in attributes.items() if k.startswith(after)}
    return start, end


Variant = tuple[
    Callable[[int], None], Callable[[], object], Callable[[], None], Callable[[], dict[str, Any]]
]


def make_variant(name: str, url: str, options: dict[str, Any]) -> Variant:
    """(one span, flush, flush-and-stop, stats) for `name`, exporting to `url`."""
    if name == "plain":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import SpanKind

        start, end = reference_attributes()
        provider = TracerProvider(
            resource=Resource.create({"service.name": "bench"}), shutdown_on_exit=False
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{url}/v1/traces")))
        tracer = provider.get_tracer("bench")
        span_name = f"chat {MODEL}"

        def plain(n: int) -> None:
            with tracer.start_as_current_span(
                span_name, kind=SpanKind.CLIENT, attributes=start
            ) as span:
                span.set_attributes(end)

        return plain, provider.force_flush, provider.shutdown, dict

    import liveeval.sdk as le

    sdk_provider = le.setup(url, project="bench", set_global=False, **options)
    from liveeval.sdk import tracing

    def stats() -> dict[str, Any]:
        span_stats = getattr(tracing, "span_stats", None)  # absent before SpanQueue
        counted = span_stats() if span_stats else None
        return {} if counted is None else dataclasses.asdict(counted)

    return (
        lambda n: sdk_call(le, None, n),
        sdk_provider.force_flush,
        sdk_provider.shutdown,
        stats,
    )


def per_span_cost(url: str, spans: int, rounds: int) -> None:
    """Both variants live side by side and take turns each round, so a busy machine
    slows both alike; the best round of each is its cost."""
    print(f"per-span cost, {spans} spans a round, best of {rounds} ({_load()})")
    variants = {name: make_variant(name, url, {}) for name in ("plain", "sdk")}
    best = {name: [float("inf"), float("inf")] for name in variants}
    for _ in range(rounds):
        for name, (one, flush, _, _) in variants.items():
            flush()
            started = time.perf_counter()
            for n in range(spans):
                one(n)
            looped = time.perf_counter()
            flush()
            done = time.perf_counter()
            best[name][0] = min(best[name][0], (looped - started) / spans * 1e6)
            best[name][1] = min(best[name][1], (done - started) / spans * 1e6)
    for name, (_, _, stop, _) in variants.items():
        stop()
        loop_best, total_best = best[name]
        print(
            f"  {name:5}  app thread {loop_best:6.1f} µs/span   "
            f"with export {total_best:6.1f} µs/span"
        )


def burst_child(name: str, url: str, spans: int, max_queue: int | None) -> None:
    """Send `spans` spans as fast as possible; print what it took as JSON."""
    options = {} if max_queue is None else {"max_queue": max_queue}
    one, _, stop, stats = make_variant(name, url, options)
    slowest = 0.0
    started = time.perf_counter()
    for n in range(spans):
        before = time.perf_counter()
        one(n)
        slowest = max(slowest, time.perf_counter() - before)
    sent_at = time.perf_counter()
    counted = stats()
    stop()
    print(
        json.dumps(
            {
                "sent": spans,
                "send_s": sent_at - started,
                "total_s": time.perf_counter() - started,
                "slowest_ms": slowest * 1000,
                "peak_rss_mb": peak_rss_mb(os.getpid()),
                "stats": counted,
            }
        )
    )


def burst(url: str, spans: int, max_queue: int | None) -> None:
    print(f"burst of {spans} spans, each variant in a fresh process ({_load()})")
    for name in ("plain", "sdk"):
        before = _received(url)
        child = subprocess.run(
            [sys.executable, __file__, "--child", name, "--url", url, "--burst", str(spans)]
            + ([] if max_queue is None else ["--max-queue", str(max_queue)]),
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        received = _wait_received(url, before, spans)
        print(
            f"  {name:5}  sent {result['sent']}  received {received}  "
            f"dropped {result['sent'] - received}  "
            f"sending {result['send_s']:.1f} s, all exported {result['total_s']:.1f} s  "
            f"slowest span {result['slowest_ms']:.0f} ms  "
            f"peak RSS {result['peak_rss_mb']:.0f} MB"
        )
        if result["stats"]:
            stats = result["stats"]
            waits, waited = stats["waits"], stats["waited_s"]
            print(f"         the app waited for room {waits} times, {waited:.1f} s in all")


def _wait_received(url: str, before: int, spans: int) -> int:
    """Spans counted since `before`, once the count stops moving."""
    last, still = -1, 0
    while still < 3:
        count = _received(url) - before
        if count >= spans:
            return count
        still = still + 1 if count == last else 0
        last = count
        time.sleep(0.2)
    return last


def _received(url: str) -> int:
    import httpx

    return int(httpx.get(f"{url}/count", timeout=30).text)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# The receiver: a process of its own that counts the spans of every OTLP request.


def receive() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    lock = threading.Lock()
    counted = [0]
    empty = ExportTraceServiceResponse().SerializeToString()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(raw)
                n = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
                with lock:
                    counted[0] += n
            self._answer(empty, "application/x-protobuf")

        def do_GET(self) -> None:
            with lock:
                self._answer(str(counted[0]).encode(), "text/plain")

        def _answer(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


class Receiver(AbstractContextManager["Receiver"]):
    def __enter__(self) -> Receiver:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--receive"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["cost", "burst", "both"], default="both")
    parser.add_argument("--spans", type=int, default=2000, help="spans per cost round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--burst", type=int, default=50_000)
    parser.add_argument("--max-queue", type=int, help="the SDK's max_queue in the burst")
    parser.add_argument("--receive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["plain", "sdk"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive()
        return
    if args.child:
        burst_child(args.child, args.url, args.burst, args.max_queue)
        return
    with Receiver() as receiver:
        if args.part in ("cost", "both"):
            per_span_cost(receiver.url, args.spans, args.rounds)
        if args.part in ("burst", "both"):
            burst(receiver.url, args.burst, args.max_queue)


if __name__ == "__main__":
    main()
