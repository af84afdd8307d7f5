"""Alert-rule benchmark: 50 rules over 10,000,000 stored interactions, one minute-tick at a time.

    python bench/alerts.py                      # build (or reuse) the store, backfill, 10 ticks
    python bench/alerts.py --backfill-days 8.1  # roll up only what the rules read
    python bench/alerts.py --rebuild            # build the cached store again
    python bench/alerts.py --interactions 1000000 --days 3 --db sqlite:////tmp/small.db
    python bench/alerts.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --interactions 3000000 --days 9         # in a schema of its own, dropped at the end

1. The store: `--interactions` over `--days` for one project in about 30 slices, with
   features, signals, judge and check scores (bench/alerts_data.py), written as raw rows
   in chunks of 50,000. A SQLite store is kept (with a marker file beside it) and
   reused until `--rebuild` or other sizes; PostgreSQL is built afresh each run in the
   schema `liveeval_bench_alerts` and dropped at the end.
2. The backfill: `refresh_rollups` (50,000 new rows a source a run) until it has
   caught up; prints its time, its rate and the rollup rows. A full backfill of
   10,000,000 interactions takes the better part of an hour on 2 cores: `--backfill-days`
   starts the watermarks at the last DAYS (the rules read at most 8 days back), which
   gives the ticks the same rollups to read.
3. The ticks: before each, one new minute of traffic (500 interactions with their
   signals and scores, and late judge scores for earlier minutes), then
   `Monitor(store, settings).tick(now)` with the `--rules` rules alone and the log
   notifier, as the scheduler runs it. Per tick: the whole tick, its refresh, its
   `rollup_projects`, its `evaluate_project` (and of that, reading the rollups), the
   rest (lease, alerts, delivery), and `evaluate_project` once more on its own. The
   issue's target: evaluating the rules takes at most 1 s a tick. Figures are printed,
   never asserted.

`--profile` adds a cProfile of one more `evaluate_project` (top functions by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa

import liveeval.monitor.evaluation as evaluation_module
import liveeval.monitor.scheduler as scheduler_module
from alerts_data import (
    END,
    LATE_SCORES,
    PER_MINUTE,
    PROJECT,
    Slice,
    add_minute,
    analyze,
    build,
    drop_pg_schema,
    make_slices,
    marker_of,
    open_bench_store,
    sqlite_path,
)
from liveeval.config import Settings
from liveeval.config.monitor import DRIFT_METRICS, MonitorConfig, RuleConfig
from liveeval.monitor.evaluation import evaluate_project, rule_ranges
from liveeval.monitor.scheduler import LEASE, Monitor
from liveeval.store.database import Store
from liveeval.store.rollups import refresh_rollups
from liveeval.store.schema import (
    interaction_features,
    interactions,
    rollup_watermarks,
    rollups,
    scheduler_leases,
    scores,
    signals,
)

DEFAULT_DB = "sqlite:////tmp/liveeval-bench-alerts.db"
TARGET_S = 1.0

# (metric, window, baseline, slice_by, threshold, relative); judge rules on "helpfulness".
# fmt: off
RULES: tuple[tuple[str, str, str, tuple[str, ...], float | None, bool], ...] = (
    ("judge_mean", "1d", "7d", ("all", "model_served"), 0.3, False),
    ("judge_mean", "6h", "7d", ("all", "route"), 0.3, False),
    ("judge_mean", "1d", "7d", ("language",), 0.3, False),
    ("judge_mean", "1d", "7d", ("model_served+language",), 0.4, False),
    ("judge_mean", "1h", "1d", ("all",), 0.5, False),
    ("judge_bad_share", "1d", "7d", ("all", "model_served"), 0.1, False),
    ("judge_bad_share", "6h", "1d", ("all", "route"), 0.1, False),
    ("judge_bad_share", "1d", "7d", ("language", "model_served+language"), 0.1, False),
    ("judge_p10", "1d", "7d", ("all", "model_served"), 1.0, False),
    ("judge_p10", "6h", "7d", ("all",), 1.0, False),
    ("judge_error_rate", "1h", "1d", ("all", "model_served"), 0.05, False),
    ("regenerated_rate", "15m", "1d", ("all",), 0.05, False),
    ("regenerated_rate", "1h", "7d", ("all", "model_served", "route", "language"), 0.02, False),
    ("regenerated_rate", "6h", "7d", ("model_served+language",), 0.02, False),
    ("regenerated_rate", "1d", "7d", ("all", "model_served"), 0.01, False),
    ("thumbs_down_rate", "1h", "7d", ("all", "route"), 0.03, False),
    ("thumbs_down_rate", "1d", "7d", ("all", "model_served", "language"), 0.02, False),
    ("thumbs_down_rate", "6h", "1d", ("model_served+language",), 0.02, False),
    ("schema_invalid_rate", "15m", "1d", ("all",), 0.02, False),
    ("schema_invalid_rate", "1h", "7d", ("all", "model_served", "route"), 0.02, False),
    ("schema_invalid_rate", "1d", "7d", ("model_served+language",), 0.01, False),
    ("edited_rate", "1h", "7d", ("all", "route"), 0.05, False),
    ("edited_rate", "1d", "7d", ("all", "language"), 0.03, False),
    ("edit_ratio_mean", "1d", "7d", ("all", "model_served"), 0.1, False),
    ("error_rate", "15m", "1d", ("all",), 0.02, False),
    ("error_rate", "1h", "7d", ("all", "model_served", "route"), 0.01, False),
    ("error_rate", "1d", "7d", ("model_served+language",), 0.01, False),
    ("check_failure_rate", "15m", "1d", ("all",), 0.03, False),
    ("check_failure_rate", "1h", "7d", ("all", "model_served", "route"), 0.02, False),
    ("check_failure_rate", "6h", "7d", ("language", "model_served+language"), 0.02, False),
    ("check_failure_rate", "1d", "7d", ("all", "route"), 0.01, False),
    ("model_mismatch_rate", "15m", "1d", ("all",), 0.01, False),
    ("model_mismatch_rate", "1h", "7d", ("all", "route"), 0.01, False),
    ("model_mismatch_rate", "1d", "7d", ("all", "model_served"), 0.005, False),
    ("latency_p50", "15m", "1d", ("all",), 0.3, True),
    ("latency_p50", "1h", "7d", ("all", "model_served"), 0.3, True),
    ("latency_p50", "1d", "7d", ("model_served+language",), 0.3, True),
    ("latency_p95", "15m", "1d", ("all",), 0.5, True),
    ("latency_p95", "1h", "7d", ("all", "model_served", "route"), 0.5, True),
    ("latency_p95", "6h", "7d", ("model_served+language",), 0.5, True),
    ("latency_p95", "1d", "7d", ("all", "route", "language"), 0.3, True),
    ("cost_mean", "1h", "7d", ("all", "model_served"), 0.2, True),
    ("cost_mean", "1d", "7d", ("all", "route", "language"), 0.2, True),
    ("cost_mean", "6h", "1d", ("model_served+language",), 0.2, True),
    ("language_drift", "1h", "7d", ("all",), None, False),
    ("language_drift", "1d", "7d", ("all", "route", "model_served"), None, False),
    ("language_drift", "6h", "1d", ("all", "route"), None, False),
    ("model_served_drift", "1h", "7d", ("all",), None, False),
    ("model_served_drift", "1d", "7d", ("all", "route", "language"), None, False),
    ("model_served_drift", "15m", "1d", ("all",), None, False),
)
# fmt: on


def make_rules(count: int) -> tuple[RuleConfig, ...]:
    """The first `count` rules of RULES (repeated under new names past 50)."""
    out = []
    for k in range(count):
        metric, window, baseline, slice_by, threshold, relative = RULES[k % len(RULES)]
        copy = f"-copy{k // len(RULES)}" if k >= len(RULES) else ""
        rule: dict[str, Any] = {
            "name": f"{metric.replace('_', '-')}-{window}-vs-{baseline}-{k + 1}{copy}",
            "metric": metric,
            "window": window,
            "baseline": baseline,
            "slice_by": slice_by,
            "threshold": threshold,
            "relative": relative,
        }
        if metric.startswith("judge_") and metric != "judge_error_rate":
            rule["score"] = "helpfulness"
        if metric in DRIFT_METRICS:
            rule["min_samples"] = 100
        out.append(RuleConfig.model_validate(rule))
    return tuple(out)


def skip_history(store: Store, days: float) -> None:
    """Start the rollup watermarks at the rows of the last `days`, so that the backfill
    rebuilds only the buckets the rules read (window + baseline back, at most 8 days
    here); the older raw rows stay stored but get no rollups. Only on a fresh store."""
    with store.writing() as conn:
        if conn.execute(sa.select(rollup_watermarks.c.source).limit(1)).first() is not None:
            print("backfill  resuming from the stored watermarks (--backfill-days ignored)")
            return
        newest = conn.execute(sa.select(sa.func.max(interactions.c.start_at))).scalar_one()
        cutoff = newest - timedelta(days=days)
        first_id = conn.execute(
            sa.select(sa.func.min(interactions.c.interaction_id)).where(
                interactions.c.project == PROJECT, interactions.c.start_at >= cutoff
            )
        ).scalar_one()
        f = interaction_features.c
        firsts = {
            "interactions": first_id,
            "features": sa.select(sa.func.min(f.feature_id)).where(
                f.project == PROJECT, f.start_at >= cutoff
            ),
            "signals": sa.select(sa.func.min(signals.c.signal_id)).where(
                signals.c.interaction_id >= first_id
            ),
            "scores": sa.select(sa.func.min(scores.c.score_id)).where(
                scores.c.interaction_id >= first_id
            ),
        }
        for source, first in firsts.items():
            value = first if isinstance(first, int) else conn.execute(first).scalar_one()
            last_id = (value or 1) - 1
            conn.execute(rollup_watermarks.insert().values(source=source, last_id=last_id))
    print(f"backfill  from {cutoff:%Y-%m-%d %H:%M} on (--backfill-days {days:g}): older rows "
          f"get no rollups", flush=True)  # fmt: skip


def _watermarks(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(rollup_watermarks.c.source, rollup_watermarks.c.last_id)
    return {source: last_id for source, last_id in conn.execute(query)}


def backfill(store: Store) -> None:
    with store.reading() as conn:
        last_id = conn.execute(sa.select(sa.func.max(interactions.c.interaction_id))).scalar()
        marks = _watermarks(conn)
    first_mark = marks.get("interactions", 0)
    todo = max((last_id or 0) - first_mark, 1)
    began = noted = time.perf_counter()
    runs = minutes = hours = 0
    while True:
        with store.writing() as conn:
            done = refresh_rollups(conn)
        runs += 1
        minutes += done.minutes
        hours += done.hours
        if done.minutes == 0 and done.hours == 0:
            break
        if time.perf_counter() - noted > 60:
            noted = time.perf_counter()
            with store.reading() as conn:
                marks = _watermarks(conn)
            share = (marks.get("interactions", 0) - first_mark) / todo
            print(
                f"  backfill: {noted - began:,.0f} s, {runs} runs, {minutes:,} minute and "
                f"{hours:,} hour rebuilds, interactions read {share:.0%}, watermarks {marks}",
                flush=True,
            )
    elapsed = time.perf_counter() - began
    analyze(store, rollups)
    with store.reading() as conn:
        counts = dict(
            conn.execute(
                sa.select(rollups.c.grain_s, sa.func.count()).group_by(rollups.c.grain_s)
            ).all()
        )
    rows = (
        f"rollup rows {sum(counts.values()):,} ({counts.get(60, 0):,} minute, "
        f"{counts.get(3600, 0):,} hour)"
    )
    if minutes == 0:
        print(f"backfill  nothing to do ({elapsed:.1f} s); {rows}", flush=True)
        return
    print(
        f"backfill  {runs:,} refresh runs rebuilt {minutes:,} minute and {hours:,} hour "
        f"buckets: {elapsed:,.1f} s ({todo / elapsed:,.0f} interactions/s, "
        f"{1000 * elapsed / minutes:.1f} ms a minute bucket, hours included); {rows}",
        flush=True,
    )


# ---- the ticks ----------------------------------------------------------------------------


class AlertLog(logging.Handler):
    """Counts the log notifier's alert lines instead of printing them between the figures."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Timings:
    """Seconds spent inside the wrapped functions since the last `take`."""

    refresh_s: float = 0.0
    projects_s: float = 0.0
    evaluate_s: float = 0.0
    read_s: float = 0.0
    rows_read: int = 0

    def take(self) -> Timings:
        taken = replace(self)
        self.refresh_s = self.projects_s = self.evaluate_s = self.read_s = 0.0
        self.rows_read = 0
        return taken


# What the tick calls, by the names it calls them: (module, attribute, Timings field).
WRAPPED = (
    (scheduler_module, "plan_refresh", "refresh_s"),
    (scheduler_module, "apply_refresh", "refresh_s"),
    (scheduler_module, "rollup_projects", "projects_s"),
    (scheduler_module, "evaluate_project", "evaluate_s"),
    (evaluation_module, "read_range", "read_s"),
)


@contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    """Time the parts of a tick by wrapping the functions the scheduler calls."""
    originals = [getattr(module, name) for module, name, _ in WRAPPED]

    def timed(function: Callable[..., Any], field: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            result = function(*args, **kwargs)
            setattr(timings, field, getattr(timings, field) + time.perf_counter() - began)
            if field == "read_s":
                timings.rows_read += len(result)
            return result

        return wrapper

    for (module, name, field), original in zip(WRAPPED, originals, strict=True):
        setattr(module, name, timed(original, field))
    try:
        yield
    finally:
        for (module, name, _), original in zip(WRAPPED, originals, strict=True):
            setattr(module, name, original)


COLUMNS = ("refresh_s", "projects_s", "evaluate_s", "read_s", "rest_s", "total_s", "alone_s")


def run_ticks(
    store: Store, slices: list[Slice], rules: tuple[RuleConfig, ...], ticks: int, profile: bool
) -> None:
    settings = Settings(monitor=MonitorConfig(rules=rules, default_rules=False))
    notified = AlertLog()
    alert_log = logging.getLogger("liveeval.alerts")  # where the "log" notifier writes
    alert_log.addHandler(notified)
    alert_log.propagate = False
    with store.writing() as conn:  # a lease left by a run cut short (clock: ours, not now)
        conn.execute(scheduler_leases.delete().where(scheduler_leases.c.name == LEASE))
    monitor = Monitor(store, settings)
    with store.reading() as conn:
        newest = sa.select(
            sa.func.max(interactions.c.interaction_id), sa.func.max(interactions.c.start_at)
        )
        last_id, last_at = conn.execute(newest).one()
    next_id = int(last_id) + 1
    minute = datetime.fromtimestamp((int(last_at.timestamp()) // 60 + 1) * 60, END.tzinfo)
    monitor.tick(minute)  # catch up whatever the last run left, outside the figures
    ranges = {span for rule in rules for span in rule_ranges(rule, minute)}
    print(
        f"ticks     {len(rules)} rules over {len(ranges)} distinct time ranges; "
        f"{PER_MINUTE} new interactions and {LATE_SCORES} late judge scores before each tick",
        flush=True,
    )
    print(
        "          refresh_s: plan_refresh + apply_refresh; projects_s: rollup_projects; "
        "evaluate_s: evaluate_project (read_s of it: read_range); rest_s: lease, alerts, "
        "notifications; alone_s: evaluate_project again, alone"
    )
    header = ("tick", "refreshed", *COLUMNS, "rows_read", "evaluations", "changes", "notified")
    print("  " + "  ".join(f"{h:>11}" for h in header), flush=True)
    rng = np.random.default_rng(7)
    timings = Timings()
    results: list[dict[str, float]] = []
    now = minute
    with instrumented(timings):
        for k in range(1, ticks + 1):
            next_id += add_minute(store, slices, minute, next_id, rng)
            minute += timedelta(minutes=1)
            now = minute + timedelta(seconds=2)
            notified.count = 0
            began = time.perf_counter()
            tick = monitor.tick(now)
            total = time.perf_counter() - began
            assert tick is not None, "the monitor lease is held by another process"
            part = timings.take()
            began = time.perf_counter()
            with store.reading() as conn:
                evaluate_project(conn, PROJECT, rules, settings.monitor.drift, now)
            alone = time.perf_counter() - began
            timings.take()
            row = {
                "refresh_s": part.refresh_s,
                "projects_s": part.projects_s,
                "evaluate_s": part.evaluate_s,
                "read_s": part.read_s,
                "rest_s": total - part.refresh_s - part.projects_s - part.evaluate_s,
                "total_s": total,
                "alone_s": alone,
            }
            results.append(row)
            refreshed = f"{tick.refreshed.minutes}m+{tick.refreshed.hours}h"
            counts = (part.rows_read, tick.evaluations, len(tick.changes), notified.count)
            _print_row(str(k), refreshed, [row[c] for c in COLUMNS], counts)
    for label, pick in (("median", statistics.median), ("max", max)):
        _print_row(label, "", [pick(r[c] for r in results) for c in COLUMNS], None)
    worst = max(r["evaluate_s"] for r in results)
    verdict = "within" if worst <= TARGET_S else "OVER"
    print(
        f"target    evaluating {len(rules)} rules <= {TARGET_S:.0f} s a tick: max "
        f"{worst:.3f} s, {verdict}; whole tick median "
        f"{statistics.median(r['total_s'] for r in results):.3f} s, max "
        f"{max(r['total_s'] for r in results):.3f} s",
        flush=True,
    )
    if profile:
        print_profile(store, rules, settings, now)


def _print_row(
    label: str, refreshed: str, seconds: list[float], counts: tuple[int, ...] | None
) -> None:
    cells = [label, refreshed, *(f"{s:.3f}" for s in seconds)]
    cells += [f"{c:,}" for c in counts] if counts else [""] * 4
    print("  " + "  ".join(f"{c:>11}" for c in cells), flush=True)


def print_profile(
    store: Store, rules: tuple[RuleConfig, ...], settings: Settings, now: datetime
) -> None:
    profiler = cProfile.Profile()
    with store.reading() as conn:
        profiler.enable()
        evaluate_project(conn, PROJECT, rules, settings.monitor.drift, now)
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
    print("profile   one evaluate_project, top functions by own time:")
    print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite store again")
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLAlchemy URL of the store")
    parser.add_argument(
        "--backfill-days",
        type=float,
        help="roll up only the last DAYS (the rules read 8 days back); default: all",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one evaluation")
    args = parser.parse_args()
    store, must_build = open_bench_store(args.db, args.interactions, args.days, args.rebuild)
    print(f"store     {store.describe()}", flush=True)
    slices = make_slices()
    path = sqlite_path(args.db)
    try:
        if must_build:
            build(store, slices, args.interactions, args.days)
            if path is not None:  # the backfill resumes from its watermarks if cut short
                marker = {"interactions": args.interactions, "days": args.days}
                marker_of(path).write_text(json.dumps(marker))
        else:
            print(f"build     reused ({args.interactions:,} interactions over {args.days} days)")
        if args.backfill_days is not None:
            skip_history(store, args.backfill_days)
        backfill(store)
        if args.ticks > 0:
            run_ticks(store, slices, make_rules(args.rules), args.ticks, args.profile)
    finally:
        store.close()
        if path is None:
            drop_pg_schema(args.db)


if __name__ == "__main__":
    main()
