"""Memory benchmark: what an idle `liveeval serve` holds, per process and in all.

    python bench/memory.py                 # --workers 1 and --workers 2, SQLite
    python bench/memory.py --workers 1     # one layout only
    python bench/memory.py --settle 5      # a quicker look

For each layout it starts `liveeval serve` on a fresh SQLite store (background
evaluation, the default), waits --settle seconds, and reads every process of the tree
(serve, the evaluator it starts, uvicorn's workers): RSS, and PSS from
/proc/<pid>/smaps_rollup, which splits a page shared by N processes into N parts, so
the PSS column adds up to what the tree really costs. Then it sends one small OTLP
batch (one chat span) and opens the dashboard's overview, so that what is imported
on first use is counted too, waits --settle seconds again and reads the tree again.

Target (issue 17): the whole tree idle ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from ingest import _kv as kv
from ingest import process_tree, start_server

BUDGET_MB = 150.0
ANSWER = '[{"role":"assistant","parts":[{"type":"text","content":"Hello! How can I help?"}]}]'


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0])
    return values["Rss"], values["Pss"]


def label(pid: int) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    if (
        "liveeval.ingest.evaluator" in command
        or "evaluator" in Path(f"/proc/{pid}/comm").read_text()
    ):
        return "evaluator"
    if " serve " in f" {command} ":
        return "serve"
    if "multiprocessing" in command or "spawn_main" in command:
        return "worker" if "resource_tracker" not in command else "resource tracker"
    return command[:40]


def report(pid: int, when: str) -> float:
    """Print the tree's memory; return its PSS in MB."""
    rows = []
    for process in process_tree(pid):
        try:
            rss, pss = memory_kb(process)
            rows.append((process, label(process), rss / 1024, pss / 1024))
        except (FileNotFoundError, ProcessLookupError):
            continue
    print(f"  {when}")
    for process, name, rss, pss in rows:
        print(f"    {name:<18} pid {process:<8} RSS {rss:6.0f} MB  PSS {pss:6.0f} MB")
    total_rss, total_pss = sum(r[2] for r in rows), sum(r[3] for r in rows)
    verdict = "within" if total_pss <= BUDGET_MB else "over"
    print(
        f"    {'in all':<27} RSS {total_rss:6.0f} MB  PSS {total_pss:6.0f} MB"
        f"  ({verdict} the {BUDGET_MB:.0f} MB budget)"
    )
    return total_pss


def one_span() -> bytes:
    now = time.time_ns()
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name="chat gpt-4o",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=now - 800_000_000,
        end_time_unix_nano=now,
    )
    span.attributes.extend(
        [
            kv("gen_ai.operation.name", "chat"),
            kv("gen_ai.request.model", "gpt-4o"),
            kv(
                "gen_ai.input.messages",
                '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
            ),
            kv("gen_ai.output.messages", ANSWER),
        ]
    )
    scope = ScopeSpans(spans=[span])
    resource = ResourceSpans(scope_spans=[scope])
    resource.resource.attributes.append(kv("service.name", "bench-memory"))
    return ExportTraceServiceRequest(resource_spans=[resource]).SerializeToString()


def measure(workers: int, settle_s: float) -> tuple[float, float]:
    print(f"liveeval serve --workers {workers}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server, url = start_server(f"sqlite:///{tmp}/idle.db", env, workers)
        try:
            time.sleep(settle_s)
            idle = report(server.pid, f"idle, {settle_s:g} s after start")
            with httpx.Client(timeout=30, follow_redirects=True) as client:
                for _ in range(workers):  # a request per worker, most likely each once
                    client.post(
                        f"{url}/v1/traces",
                        content=one_span(),
                        headers={"Content-Type": "application/x-protobuf"},
                    ).raise_for_status()
                    client.get(f"{url}/ui/").raise_for_status()
            time.sleep(settle_s)
            used = report(server.pid, f"idle after one OTLP batch and the overview page ×{workers}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return idle, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, action="append", help="default: 1 and 2")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait (15)")
    args = parser.parse_args()
    for workers in args.workers or [1, 2]:
        measure(workers, args.settle)


if __name__ == "__main__":
    main()
