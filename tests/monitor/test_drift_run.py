"""Drift reports from the store: real CLINC150 questions, languages detected as ingest does."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from liveeval.config.monitor import DriftConfig
from liveeval.ingest.features import features_of
from liveeval.model import Interaction
from liveeval.monitor.drift_run import run_drift
from liveeval.store.database import Store
from liveeval.store.features import write_features
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span
from tests.conftest import DATASETS
from tests.telemetry import T0, span_id, trace_id

CLINC = json.loads((DATASETS / "intents" / "data_full.json").read_text())
BY_INTENT: dict[str, list[str]] = {}
for text, label in CLINC["train"]:
    BY_INTENT.setdefault(label, []).append(text)
BASE = ("balance", "transfer", "pin_change")
DAY = timedelta(days=1)


def store_questions(store: Store, texts: list[str], start: object, model: str) -> None:
    batch = [
        Interaction(
            project="bank",
            trace_id=trace_id(),
            span_id=span_id(),
            parent_span_id=None,
            name="chat",
            convention="genai",
            operation="chat",
            start_at=start + timedelta(seconds=k),  # type: ignore[operator]
            end_at=start + timedelta(seconds=k, milliseconds=800),  # type: ignore[operator]
            latency_ms=800.0,
            status="ok",
            model_served=model,
            input_text=text,
            output_text="Sure.",
        )
        for k, text in enumerate(texts)
    ]
    with store.writing() as conn:
        upsert_interactions(conn, batch, T0)
        ids = interaction_ids_by_span(conn, "bank", [i.trace_id for i in batch])
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
