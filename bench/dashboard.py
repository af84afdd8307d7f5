"""Dashboard benchmark: each page's response time with 1,000,000 interactions stored.

    python bench/dashboard.py                     # build (or reuse) the store, then time
    python bench/dashboard.py --requests 40 --interactions 1000000 --days 7

The store is bench/alerts_data.py's synthetic traffic (one project, 30 slices, signals,
judge and check scores, an incident in its last hours), kept in
/tmp/liveeval-bench-dashboard.db and reused while its sizes match; its rollups are
rebuilt once. Then a real uvicorn serves the app (its clock at the end of the stored
history) and each page is fetched `--requests` times over HTTP after one warm-up;
the figures are the first request (cold: nothing cached), then p50, p95 and max per
page, against the issue's target of 300 ms p95. The pages that read rollups (overview,
quality, experiments, judge) answer from what they computed in the last 30 s and refresh
it in the background (the monitor rolls up once a minute); the drift page computes its
report in the background.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

from alerts import backfill
from alerts_data import END, PROJECT, build, make_slices, marker_of, open_bench_store, sqlite_path
from liveeval.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.conftest's server
from tests.conftest import run_server

PAGES = (
    "overview",
    "interactions",
    "interactions?prompt_version=v8",
    "interactions?prompt_version=v2",  # a value no row has: without the rollups, a full walk
    "interactions?language=zz",  # likewise, through the features table
    "interactions?score=0",  # a judge score no row has (the bench's are 1-5)
    "quality",
    "quality?by=model_served",
    "drift",
    "alerts",
    "review",
    "golden",
    "experiments",
    "experiments?a=v7&b=v8",
    "judge",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--db", default="sqlite:////tmp/liveeval-bench-dashboard.db")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    store, fresh = open_bench_store(args.db, args.interactions, args.days, args.rebuild)
    if fresh:
        build(store, make_slices(), args.interactions, args.days)
        backfill(store)
        path = sqlite_path(args.db)
        if path is not None:
            marker_of(path).write_text(
                f'{{"interactions": {args.interactions}, "days": {args.days}}}'
            )
    settings = Settings(db=args.db)
    with (
        run_server(store, settings, clock=lambda: END) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        time_pages(http, args.requests)
    store.close()


def time_pages(http: httpx.Client, requests: int) -> None:
    print(f"{'page':34} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name in PAGES:
        joiner = "&" if "?" in name else "?"
        url = f"/ui/{name}{joiner}project={PROJECT}"
        began = time.perf_counter()
        http.get(url).raise_for_status()  # the first request: nothing cached yet
        first = 1000 * (time.perf_counter() - began)
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            http.get(url).raise_for_status()
            times.append(1000 * (time.perf_counter() - began))
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        worst = max(worst, p95)
        median = statistics.median(times)
        print(f"{name:34} {first:9.1f} {median:8.1f} {p95:8.1f} {times[-1]:8.1f}", flush=True)
    print(f"worst p95 {worst:.1f} ms (target ≤ 300 ms)")


if __name__ == "__main__":
    main()
