"""Drift reports from the store: real CLINC150 questions, languages detected as ingest does."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from liveeval.config.monitor import DriftConfig
from liveeval.ingest.features import features_of
from liveeval.model import TokenUsage
from liveeval.monitor.drift_run import run_drift
from liveeval.store.database import Store
from liveeval.store.features import write_features
from liveeval.store.interactions import upsert_interactions
from tests.conftest import DATASETS
from tests.store.stored import chat_interaction
from tests.telemetry import T0

CLINC = json.loads((DATASETS / "intents" / "data_full.json").read_text())
BY_INTENT: dict[str, list[str]] = {}
for text, label in CLINC["train"]:
    BY_INTENT.setdefault(label, []).append(text)
BASE = ("balance", "transfer", "pin_change")
DAY = timedelta(days=1)


def store_questions(store: Store, texts: list[str], start: object, model: str) -> None:
    batch = [
        chat_interaction(
            start + timedelta(seconds=k),  # type: ignore[operator]
            "bank",
            end_at=start + timedelta(seconds=k, milliseconds=800),  # type: ignore[operator]
            latency_ms=800.0,
            model_served=model,
            input_text=text,
            output_text="Sure.",
        )
        for k, text in enumerate(texts)
    ]
    with store.writing() as conn:
        ids = upsert_interactions(conn, batch, T0)
        write_features(conn, [features_of(i, ids[(i.trace_id, i.span_id)], []) for i in batch])


def test_a_new_kind_of_question_shows_as_intent_and_topic_drift_on_a_new_model(
    sqlite_store: Store,
) -> None:
    rng = random.Random(3)
    baseline = [rng.choice(BY_INTENT[rng.choice(BASE)]) for _ in range(600)]
    window = [rng.choice(BY_INTENT[rng.choice(BASE)]) for _ in range(200)]
    window += rng.sample(BY_INTENT["report_lost_card"], 60)
    store_questions(sqlite_store, baseline, T0 - DAY, "m1")
    store_questions(sqlite_store, window, T0, "m2")
    examples = {i: tuple(BY_INTENT[i][:20]) for i in (*BASE, "report_lost_card")}
    config = DriftConfig(encoder="hashing", intent_examples=examples)
    run = run_drift(
        sqlite_store, "bank", (T0, T0 + DAY), (T0 - DAY, T0), config, slice_by="model_served"
    )
    intent = next(f for f in run.overall.features if f.feature == "intent")
    assert intent.status == "drift"
    assert any("report_lost_card" in m for m in intent.moved)
    assert "intent drifted" in run.overall.summary and "model_served drifted" in run.overall.summary
    assert run.encoder == "hashing"
    (slice_,) = run.slices  # m2 only: m1 sent nothing in the window
    assert slice_.value == "m2" and slice_.note is not None  # no baseline of its own
    assert "model_served" not in {f.feature for f in slice_.report.features}


def test_the_same_traffic_in_both_periods_shows_no_drift(sqlite_store: Store) -> None:
    rng = random.Random(4)
    pool = [t for i in BASE for t in BY_INTENT[i]]
    store_questions(sqlite_store, [rng.choice(pool) for _ in range(500)], T0 - DAY, "m1")
    store_questions(sqlite_store, [rng.choice(pool) for _ in range(300)], T0, "m1")
    run = run_drift(
        sqlite_store, "bank", (T0, T0 + DAY), (T0 - DAY, T0), DriftConfig(encoder="hashing")
    )
    assert run.overall.drifted == [], run.overall.summary
    assert (run.n_window, run.n_baseline) == (300, 500)


def store_mixed_traffic(store: Store, start: object, n: int, seed: int, german: float) -> None:
    """Varied traffic: two models, languages by share, lengths, costs sometimes unknown,
    a metadata attribute, and some interactions the evaluator has not seen yet."""
    rng = random.Random(seed)
    pool = [t for i in (*BASE, "report_lost_card") for t in BY_INTENT[i]]
    batch = [
        chat_interaction(
            start + timedelta(seconds=k),  # type: ignore[operator]
            "bank",
            end_at=start + timedelta(seconds=k, milliseconds=800),  # type: ignore[operator]
            latency_ms=round(rng.lognormvariate(6.5, 0.4), 3),
            model_served=rng.choice(("m1", "m1", "m2")),
            route=rng.choice(("/a", "/b", None)),
            input_text=(
                "Wie kann ich mein Konto sperren?" if rng.random() < german else rng.choice(pool)
            ),
            output_text="Sure." * rng.randint(1, 40),
            usage=TokenUsage(
                input=rng.randint(5, 60),
                output=rng.randint(1, 200) if rng.random() < 0.9 else None,
            ),
            cost_usd=round(rng.uniform(0, 0.01), 6) if rng.random() < 0.8 else None,
            metadata={"tier": rng.choice(("free", "pro"))},
        )
        for k in range(n)
    ]
    with store.writing() as conn:
        ids = upsert_interactions(conn, batch, T0)
        seen = [i for i in batch if rng.random() < 0.9]  # the rest: features not yet known
        write_features(conn, [features_of(i, ids[(i.trace_id, i.span_id)], []) for i in seen])


def test_counting_in_the_database_gives_the_report_of_every_row(store: Store) -> None:
    store_mixed_traffic(store, T0 - DAY, 700, seed=5, german=0.05)
    store_mixed_traffic(store, T0, 400, seed=6, german=0.3)
    config = DriftConfig(encoder="hashing", attributes=("tier",), embed_sample=300)
    for slice_by in (None, "model_served", "route", "language"):
        runs = [
            run_drift(
                store, "bank", (T0, T0 + DAY), (T0 - DAY, T0), config, slice_by=slice_by, read=read
            ).to_dict()
            for read in ("counts", "rows")
        ]
        assert runs[0] == runs[1], slice_by
    assert "language drifted" in runs[0]["overall"]["summary"]
    empty = [
        run_drift(store, "bank", (T0 + DAY, T0 + 2 * DAY), (T0 - DAY, T0), config, read=read)
        for read in ("counts", "rows")
    ]
    assert empty[0].to_dict() == empty[1].to_dict()
    assert empty[0].n_window == 0 and empty[0].n_baseline == 700
    assert {s["value"] for s in runs[0]["slices"]} >= {"en", "de", "(none)"}
