"""Regression-run benchmark: how many golden-set cases a second `liveeval regress`
runs and grades, against a Python callable and against an OpenAI-compatible HTTP
server (a local uvicorn app that answers at once), so the figure is liveeval's own
overhead, not a model's latency.

    python bench/regress.py                    # 2,000 cases, concurrency 32
    python bench/regress.py --cases 5000 --concurrency 64

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from liveeval.gate.graders import GradingContext
from liveeval.gate.runner import run_cases
from liveeval.gate.targets import parse_target
from liveeval.model.case import Case

APP = "def answer(text):\n    return 'Refunds take 5 business days. ' + text\n"


def cases(count: int) -> list[Case]:
    now = datetime.now(UTC)
    return [
        Case.model_validate(
            {
                "id": f"case-{k}",
                "input": {"text": f"How long do refunds take? ({k})"},
                "grader": {"type": "contains", "values": ["5 business days"]},
                "author": "bench",
                "created_at": now.isoformat(),
            }
        )
        for k in range(count)
    ]


def chat_server() -> tuple[str, uvicorn.Server]:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(body: dict) -> dict:  # type: ignore[type-arg]
        text = "Refunds take 5 business days."
        return {
            "id": "x",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1", server


async def timed(spec: str, golden: list[Case], concurrency: int, **options: str) -> None:
    target = parse_target(spec, **options)  # type: ignore[arg-type]
    started = time.perf_counter()
    run = await run_cases(golden, target, GradingContext(), concurrency=concurrency)
    took = time.perf_counter() - started
    await target.aclose()
    print(
        f"{spec.split(':')[0]:7} {len(golden)} cases in {took:.2f} s: "
        f"{len(golden) / took:,.0f} cases/s ({run.count('passed')} passed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="liveeval-bench-regress-")
    Path(folder, "bench_app.py").write_text(APP, encoding="utf-8")
    sys.path.insert(0, folder)
    golden = cases(args.cases)
    asyncio.run(timed("python:bench_app:answer", golden, args.concurrency))
    url, server = chat_server()
    asyncio.run(timed(f"openai:{url}", golden, args.concurrency, model="m"))
    server.should_exit = True
    small = golden[: min(200, len(golden))]
    asyncio.run(timed(f"cmd:{sys.executable} -c 'print(\"5 business days\")'", small, 8))


if __name__ == "__main__":
    main()
