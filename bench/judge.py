"""Judge worker benchmark: one `JudgeWorker` against a local OpenAI-compatible server.

    python bench/judge.py                  # 3,000 judgments unlimited, then a 1,200 rpm run
    python bench/judge.py --jobs 1000 --skip-limit

The model server runs in its own process and answers every chat completion after
200 ms (a stand-in for a paid judge API). One worker with concurrency 32 can then
do at most 32 / 0.2 s = 160 judgments/s; the first run prints how close it comes,
with every job going through the real path (SQLite queue, lease, the official
openai client over HTTP, JSON-schema output, parsing, score, ack).

The second run sets `rpm` below what the worker could do and checks, from the
server's own arrival times, that no 60-second window saw more requests than that.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request

ROOT = Path(__file__).resolve().parents[1]
DELAY_S = 0.2
MODEL = "bench-judge-2026-01-01"


def serve(port: int) -> None:
    """The model server (run in a subprocess): 200 ms per answer, arrival times kept."""
    arrivals: list[float] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict:
        arrivals.append(time.time())
        await request.body()
        await asyncio.sleep(DELAY_S)
        content = '{"explanation": "Answers the question directly.", "score": 4}'
        return {
            "id": f"chatcmpl-{len(arrivals)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 420, "completion_tokens": 18, "total_tokens": 438},
        }

    @app.get("/arrivals")
    async def arrivals_() -> list[float]:
        return arrivals

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/arrivals", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("model server did not start")


def fill_queue(store, jobs_wanted: int, settings) -> None:  # type: ignore[no-untyped-def]
    from liveeval.judge.grading import judge_version
    from liveeval.judge.rubrics import selected_rubrics
    from liveeval.model import Interaction
    from liveeval.store import jobs
    from liveeval.store.interactions import upsert_interactions
    from liveeval.store.scores import interaction_ids_by_span

    now = datetime.now(UTC)
    batch = [
        Interaction(
            project="bench",
            trace_id=f"{n:032x}",
            span_id=f"{n:016x}",
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=now,
            end_at=now + timedelta(milliseconds=300),
            latency_ms=300.0,
            status="ok",
            input_text=f"How do I reset my password? (ticket {n})",
            output_text=f"Open Settings, choose Security, then Reset password. (ticket {n})",
        )
        for n in range(jobs_wanted)
    ]
    [rubric] = selected_rubrics(settings.judge)
    version = judge_version(settings.judge, rubric)
    with store.writing() as conn:
        upsert_interactions(conn, batch, now)
        ids = interaction_ids_by_span(conn, "bench", [i.trace_id for i in batch])
        new = [
            jobs.NewJob("bench", ids[(i.trace_id, i.span_id)], rubric.name, version, 3, "bench")
            for i in batch
        ]
        jobs.enqueue(conn, new, now)


async def run_worker(worker, store, total: int) -> float:  # type: ignore[no-untyped-def]
    from liveeval.store import jobs

    stop = asyncio.Event()

    async def watch() -> None:
        while True:
            await asyncio.sleep(0.1)
            with store.reading() as conn:
                done = jobs.counts(conn)
            if done["done"] + done["dead"] >= total:
                stop.set()
                return

    started = time.perf_counter()
    watcher = asyncio.create_task(watch())
    await worker.run(stop)
    await watcher
    elapsed = time.perf_counter() - started
    await worker.grader.aclose()
    return elapsed


def one_run(url: str, total: int, rpm: int | None) -> tuple[float, dict[str, int], int]:
    from liveeval.config import Settings
    from liveeval.judge.worker import build_worker
    from liveeval.store import jobs
    from liveeval.store.database import open_store

    os.environ["BENCH_JUDGE_KEY"] = "not-a-real-key"
    settings = Settings.model_validate(
        {
            "judge": {
                "provider": "openai",
                "model": MODEL,
                "base_url": f"{url}/v1",
                "api_key_env": "BENCH_JUDGE_KEY",
                "concurrency": 32,
                "rpm": rpm,
                "timeout_s": 30,
            },
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        fill_queue(store, total, settings)
        worker = build_worker(settings, store)
        elapsed = asyncio.run(run_worker(worker, store, total))
        with store.reading() as conn:
            counts = jobs.counts(conn)
        store.close()
    return elapsed, counts, worker.stats.errors


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - n for n, t in enumerate(times)), default=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--limit-rpm", type=int, default=1200)
    parser.add_argument("--skip-limit", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    sys.path.insert(0, str(ROOT / "src"))
    process, url = start_server()
    try:
        theory = 32 / DELAY_S
        elapsed, counts, errors = one_run(url, args.jobs, None)
        rate = args.jobs / elapsed
        print(f"unlimited: {args.jobs} judgments in {elapsed:.1f} s = {rate:.1f}/s")
        print(f"  {rate / theory:.1%} of the theoretical {theory:.0f}/s (concurrency 32, 200 ms)")
        print(f"  queue after: {counts}; error scores: {errors}")
        if not args.skip_limit:
            before = len(httpx.get(f"{url}/arrivals").json())
            total = args.limit_rpm + args.limit_rpm // 6
            elapsed, counts, errors = one_run(url, total, args.limit_rpm)
            arrivals = httpx.get(f"{url}/arrivals").json()[before:]
            peak = max_in_window(arrivals, 60.0)
            verdict = "within" if peak <= args.limit_rpm else "OVER"
            print(f"rpm {args.limit_rpm}: {total} judgments in {elapsed:.1f} s")
            print(f"  most requests in any 60 s window: {peak} ({verdict} the limit)")
            print(f"  queue after: {counts}; error scores: {errors}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
