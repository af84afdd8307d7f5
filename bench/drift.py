"""Drift benchmark: a full drift report over a window of 1,000,000 interactions against a
baseline of 1,000,000, and Evidently's drift report on the same columns, side by side.

    /work/bench-venv/bin/python bench/drift.py            # liveeval and Evidently
    python bench/drift.py --no-evidently                  # liveeval alone
    python bench/drift.py --rows 100000 --rounds 5

Evidently is not a dependency of liveeval (and pulls in pandas, pyarrow, litestar...);
install it apart, in its own virtualenv with liveeval beside it:

    python3 -m venv /work/bench-venv
    /work/bench-venv/bin/pip install -e . evidently "pandas<3"   # evidently 0.7 breaks on pandas 3

The synthetic traffic: 5 numeric features (input and output characters and tokens,
latency), 5 categorical ones (language of 16 values, topic of 30, intent of 150,
model_served of 3, route of 5; object arrays of str, as rows come from the store) and
a 256-dimensional embedding sample of 2,000 rows a side. The current window has
drifted: German up about 12 points, a new topic at 3%, longer inputs, slower answers.

liveeval computes every statistic for every feature (KS, normalized Wasserstein and
PSI; chi-squared, Jensen–Shannon and PSI; domain-classifier AUC, MMD and mean
distance); Evidently runs its DataDriftPreset on the 10 numeric and categorical columns
(for 1,000,000 rows it picks Wasserstein and Jensen–Shannon, one statistic a column).
Prints the best of `--rounds` runs of liveeval, one run of Evidently (Dataset.from_pandas
and Report.run, timed together), their ratio and what each called drifted. Budget: 5 s
for liveeval, and at least 5 times faster than Evidently.

As the user runs it, reading included (`--store`): fills a store with `--rows`
interactions over 8 days (bench/drift_store.py: executemany on SQLite, COPY on
PostgreSQL, in the private schema `bench_drift`), then runs, one after the other,
`liveeval drift --window 24h --baseline 7d` (the CLI, in a subprocess) and, in the
Evidently virtualenv, pandas.read_sql of the same 13 columns from the same store plus
DataDriftPreset on them; prints each one's seconds and peak RSS:

    python bench/drift.py --store postgresql --evidently-python /work/bench-venv/bin/python
    python bench/drift.py --store sqlite --keep     # the store filled by an earlier run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from liveeval.monitor.drift import DriftReport, FeatureFrame, drift_report

BUDGET_S = 5.0
MIN_SPEEDUP = 5.0
# fmt: off
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "zh", "ja", "ko",
             "hi", "sv")
# fmt: on
NUMERIC = ("input_chars", "output_chars", "input_tokens", "output_tokens", "latency_ms")
CATEGORICAL = ("language", "topic", "intent", "model_served", "route")


def _zipf(size: int, exponent: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def _labels(prefix: str, size: int) -> np.ndarray:
    return np.array([f"{prefix}{i}" for i in range(size)], dtype=object)


def build_window(rows: int, rng: np.random.Generator, drifted: bool) -> FeatureFrame:
    language_shares = _zipf(len(LANGUAGES), 0.8)
    topic_shares = np.append(_zipf(30, 0.7), 0.0)
    if drifted:
        language_shares[1] += 0.15  # German
        topic_shares[-1] = 0.03  # topic 30 is new
    language_shares /= language_shares.sum()
    topic_shares /= topic_shares.sum()
    input_chars = np.round(rng.lognormal(np.log(300 if drifted else 260), 0.9, rows))
    output_chars = np.round(rng.lognormal(np.log(700), 0.7, rows))
    latency = rng.gamma(4.0, (230.0 if drifted else 200.0), rows)
    latency[rng.random(rows) < 0.01] = np.nan  # timeouts without a latency
    return FeatureFrame(
        numeric={
            "input_chars": input_chars,
            "output_chars": output_chars,
            "input_tokens": np.round(input_chars / 4 + rng.normal(0, 3, rows)),
            "output_tokens": np.round(output_chars / 4 + rng.normal(0, 5, rows)),
            "latency_ms": latency,
        },
        categorical={
            "language": np.array(LANGUAGES, dtype=object)[
                rng.choice(len(LANGUAGES), rows, p=language_shares)
            ],
            "topic": _labels("topic ", 31)[rng.choice(31, rows, p=topic_shares)],
            "intent": _labels("intent_", 150)[rng.choice(150, rows, p=_zipf(150, 0.9))],
            "model_served": np.array(["gpt-4o", "gpt-4o-mini", "claude-sonnet"], dtype=object)[
                rng.choice(3, rows, p=[0.5, 0.4, 0.1])
            ],
            "route": _labels("/v1/route", 5)[rng.choice(5, rows, p=_zipf(5))],
        },
        embeddings={
            "input_embedding": rng.normal(0.05 if drifted else 0.0, 1.0, (2000, 256)).astype(
                np.float32
            )
        },
    )


def time_liveeval(
    reference: FeatureFrame, current: FeatureFrame, rounds: int
) -> tuple[float, DriftReport]:
    best, report = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        report = drift_report(reference, current)
        best = min(best, time.perf_counter() - start)
    assert report is not None
    return best, report


def time_evidently(reference: FeatureFrame, current: FeatureFrame) -> tuple[float, list[str]]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    def frame(window: FeatureFrame) -> pd.DataFrame:
        columns = {name: window.numeric[name] for name in NUMERIC}
        columns |= {name: window.categorical[name] for name in CATEGORICAL}
        return pd.DataFrame(columns)

    reference_df, current_df = frame(reference), frame(current)
    definition = DataDefinition(
        numerical_columns=list(NUMERIC), categorical_columns=list(CATEGORICAL)
    )
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(current_df, data_definition=definition),
        reference_data=Dataset.from_pandas(reference_df, data_definition=definition),
    )
    elapsed = time.perf_counter() - start
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        column, threshold = config.get("column"), config.get("threshold")
        value = metric.get("value")
        if column and isinstance(value, float) and threshold is not None and value >= threshold:
            drifted.append(column)
    return elapsed, drifted


STORE_COLUMNS = {
    "numeric": ("input_chars", "output_chars", "input_tokens", "output_tokens", "latency_ms",
                "cost_usd"),
    "categorical": ("language", "intent", "model_requested", "model_served", "prompt_version",
                    "route", "segment"),
}  # fmt: skip
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SQLITE_PATH = Path("/tmp/liveeval-bench-drift.db")


def store_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS bench_drift"))
    admin.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3Dbench_drift"


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of a child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read() if child.stdout is not None else ""
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({child.returncode})")
    return elapsed, usage.ru_maxrss / 1024, out


def evidently_child(url: str) -> None:
    """In the Evidently virtualenv: read the columns from the store, run the report."""
    import pandas as pd
    import sqlalchemy as sa
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    from drift_store import END, PROJECT  # bench/, first on the path of a script

    engine = sa.create_engine(url)
    columns = [*STORE_COLUMNS["numeric"], *STORE_COLUMNS["categorical"]]
    features = {"input_chars", "output_chars", "language", "intent"}
    select = ", ".join(f"{'f' if c in features else 'i'}.{c}" for c in columns)
    query = (
        f"SELECT {select} FROM interactions i LEFT JOIN interaction_features f "
        "ON f.interaction_id = i.interaction_id "
        "WHERE i.project = :project AND i.start_at >= :start AND i.start_at < :end"
    )
    day = pd.Timedelta(days=1)
    end = pd.Timestamp(END)
    if engine.dialect.name == "sqlite":  # stored naive UTC text
        end = end.tz_localize(None)
    start = time.perf_counter()
    with engine.connect() as conn:
        frames = [
            pd.read_sql_query(
                sa.text(query),
                conn,
                params={"project": PROJECT, "start": str(s), "end": str(e)}
                if engine.dialect.name == "sqlite"
                else {"project": PROJECT, "start": s.to_pydatetime(), "end": e.to_pydatetime()},
            )
            for s, e in ((end - 8 * day, end - day), (end - day, end))
        ]
    read = time.perf_counter() - start
    definition = DataDefinition(
        numerical_columns=list(STORE_COLUMNS["numeric"]),
        categorical_columns=list(STORE_COLUMNS["categorical"]),
    )
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(frames[1], data_definition=definition),
        reference_data=Dataset.from_pandas(frames[0], data_definition=definition),
    )
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        column, threshold = config.get("column"), config.get("threshold")
        value = metric.get("value")
        if column and isinstance(value, float) and threshold is not None and value >= threshold:
            drifted.append(column)
    rows = [len(frame) for frame in frames]
    print(json.dumps({"read_s": read, "total_s": time.perf_counter() - start, "rows": rows,
                      "drifted": drifted}))  # fmt: skip


def bench_store(args: argparse.Namespace) -> None:
    from drift_store import END, fill

    url = store_url(args.store)
    if not args.keep:
        start = time.perf_counter()
        fill(url, args.rows)
        print(f"filled {args.store} with {args.rows:,} interactions over 8 days in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    liveeval = Path(sys.executable).with_name("liveeval")
    command = [str(liveeval), "drift", "--project", "bench", "--window", "24h", "--baseline",
               "7d", "--until", END.isoformat(), "--db", url, "--json"]  # fmt: skip
    print(f"load before: {os.getloadavg()[0]:.2f}")
    seconds, peak, out = run_measured(command)
    run = json.loads(out)
    drifted = run["overall"]["drifted"]
    verdict = "within" if seconds <= BUDGET_S else "OVER"
    print(f"  liveeval drift   {seconds:7.2f} s  peak {peak:6.0f} MiB   "
          f"{run['n_baseline']:,} vs {run['n_window']:,} rows, budget {BUDGET_S:.0f} s: "
          f"{verdict}")  # fmt: skip
    print(f"    drifted: {', '.join(drifted) or 'nothing'}")
    if not args.evidently_python:
        return
    print(f"load before: {os.getloadavg()[0]:.2f}")
    child = [args.evidently_python, __file__, "--evidently-child", url]
    their_s, their_peak, out = run_measured(child)
    theirs = json.loads(out.strip().splitlines()[-1])
    print(f"  evidently        {their_s:7.2f} s  peak {their_peak:6.0f} MiB   "
          f"read_sql {theirs['read_s']:.2f} s + DataDriftPreset, 13 columns")  # fmt: skip
    print(f"    drifted: {', '.join(theirs['drifted']) or 'nothing'}")
    ratio = their_s / seconds
    verdict = "met" if ratio >= MIN_SPEEDUP else "NOT MET"
    print(f"  ratio            {ratio:7.1f} x   (at least {MIN_SPEEDUP:.0f} x: {verdict})")
    print(f"load after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows a window (a store)")
    parser.add_argument("--rounds", type=int, default=3, help="liveeval runs; the best counts")
    parser.add_argument("--no-evidently", action="store_true", help="time liveeval alone")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), help="from a store")
    parser.add_argument("--keep", action="store_true", help="use the store already filled")
    parser.add_argument("--evidently-python", help="the Evidently virtualenv's python")
    parser.add_argument("--evidently-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evidently_child:
        evidently_child(args.evidently_child)
        return
    if args.store:
        bench_store(args)
        return
    rng = np.random.default_rng(7)
    reference = build_window(args.rows, rng, drifted=False)
    current = build_window(args.rows, rng, drifted=True)
    features = len(NUMERIC) + len(CATEGORICAL) + 1
    print(f"{args.rows:,} rows against {args.rows:,}: {len(NUMERIC)} numeric, "
          f"{len(CATEGORICAL)} categorical, 1 embedding (2,000 x 256 a side)")  # fmt: skip
    ours, report = time_liveeval(reference, current, args.rounds)
    verdict = "within" if ours <= BUDGET_S else "OVER"
    print(f"  liveeval   {ours:7.2f} s   all statistics, {features} features, best of "
          f"{args.rounds}   budget {BUDGET_S:.0f} s: {verdict}")  # fmt: skip
    print(f"    drifted: {', '.join(report.drifted) or 'nothing'}")
    print(f"    {report.summary}")
    if args.no_evidently:
        return
    try:
        theirs, their_drifted = time_evidently(reference, current)
    except ImportError:
        print("  evidently  not installed here: see this file's docstring")
        return
    ratio = theirs / ours
    verdict = "met" if ratio >= MIN_SPEEDUP else "NOT MET"
    print(f"  evidently  {theirs:7.2f} s   DataDriftPreset, {len(NUMERIC) + len(CATEGORICAL)} "
          f"columns, 1 run")  # fmt: skip
    print(f"    drifted: {', '.join(their_drifted) or 'nothing'}")
    print(f"  ratio      {ratio:7.1f} x   (at least {MIN_SPEEDUP:.0f} x: {verdict})")


if __name__ == "__main__":
    main()
