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
"""

from __future__ import annotations

import argparse
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows a window")
    parser.add_argument("--rounds", type=int, default=3, help="liveeval runs; the best counts")
    parser.add_argument("--no-evidently", action="store_true", help="time liveeval alone")
    args = parser.parse_args()
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
