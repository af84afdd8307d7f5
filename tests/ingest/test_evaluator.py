"""Background evaluation: ingest queues, the evaluator checks, scores and samples."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from liveeval.config import Settings
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.evaluator import SETTINGS_VARIABLE, evaluate_pending
from liveeval.ingest.pipeline import write_spans
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.model import ScoreKind, Signal, SignalKind
from liveeval.store import evaluation_queue
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.jobs import jobs_of
from liveeval.store.sampling import decisions_of
from liveeval.store.scores import scores_of
from liveeval.store.signals import record_signal
from tests.conftest import Clock, wait_for
from tests.telemetry import T0, chat_attributes, model_span, trace_id

RULES = AssemblyRules()
NOW = T0 + timedelta(minutes=1)
QUESTION = "Wie kann ich meine Kreditkarte sperren lassen, wenn ich sie verloren habe?"
ANSWER = "Sie können Ihre Karte in der App unter Einstellungen sperren lassen."


def background(**settings: object) -> OnlineEvaluation:
    evaluation = OnlineEvaluation.from_settings(Settings.model_validate(settings))
    assert evaluation.background  # the default
    return evaluation


def interaction_ids(store: Store) -> list[int]:
    with store.reading() as conn:
        found = list_interactions(conn, InteractionFilter(project="default"), limit=100)
    return sorted(i.interaction_id or 0 for i in found)


def queued(store: Store) -> int:
    with store.reading() as conn:
        return evaluation_queue.count(conn)


def test_ingest_only_queues_and_the_evaluator_scores_and_samples(
    store: Store, clock: Clock
) -> None:
    evaluation = background(
        judge={"provider": "openai", "model": "gpt-4o-mini"},
        sampling={"policies": ["uniform"], "uniform": {"rate": 1.0}},
    )
    spans = [model_span(chat_attributes(QUESTION, ANSWER), trace=trace_id()) for _ in range(3)]
    written = write_spans(store, spans, RULES, NOW, evaluation=evaluation)
    assert (written.interactions, written.scores, written.judge_jobs) == (3, 0, 0)
    ids = interaction_ids(store)
    with store.reading() as conn:
        assert scores_of(conn, ids) == []
    assert queued(store) == 3
    assert evaluate_pending(store, evaluation, clock) == 3
    assert queued(store) == 0 and evaluate_pending(store, evaluation, clock) == 0
    with store.reading() as conn:
        checks = [s for s in scores_of(conn, ids) if s.kind == ScoreKind.CHECK]
        decisions = [decisions_of(conn, iid) for iid in ids]
        judge_jobs = [jobs_of(conn, iid) for iid in ids]
    assert {s.name for s in checks} >= {"not_empty", "refusal", "length", "language"}
    assert all(d[0].sampled and d[0].slice["language"] == "de" for d in decisions)
    assert all(len(j) == 1 for j in judge_jobs)


def test_a_trace_that_grows_after_evaluation_is_evaluated_again(store: Store, clock: Clock) -> None:
    evaluation = background()
    trace = trace_id()
    write_spans(store, [model_span(chat_attributes(QUESTION, ""), trace=trace)], RULES, NOW,
                evaluation=evaluation)  # fmt: skip
    evaluate_pending(store, evaluation, clock)
    [iid] = interaction_ids(store)
    with store.reading() as conn:
        [empty] = [s for s in scores_of(conn, [iid]) if s.name == "not_empty"]
    assert empty.value == 0.0
    write_spans(  # a sibling span arrives: the trace is re-assembled and queued again
        store, [model_span(chat_attributes("Hi", "Hello"), trace=trace)], RULES, NOW,
        evaluation=evaluation,
    )  # fmt: skip
    assert queued(store) == 2
    evaluate_pending(store, evaluation, clock)
    assert queued(store) == 0


def test_signals_that_came_first_trigger_judging_in_the_background(
    store: Store, clock: Clock
) -> None:
    evaluation = background(
        judge={"provider": "openai", "model": "gpt-4o-mini"},
        sampling={"uniform": {"rate": 0}, "stratified": {"floor": 0}},
    )
    trace = trace_id()
    with store.writing() as conn:
        signal_ = Signal(project="default", kind=SignalKind.THUMBS_DOWN, occurred_at=T0,
                         trace_id=trace)  # fmt: skip
        record_signal(conn, signal_, T0)
    write_spans(store, [model_span(chat_attributes(QUESTION, ANSWER), trace=trace)], RULES, NOW,
                evaluation=evaluation)  # fmt: skip
    evaluate_pending(store, evaluation, clock)
    [iid] = interaction_ids(store)
    with store.reading() as conn:
        [decision] = decisions_of(conn, iid)
    assert decision.sampled and decision.policy == "signal"


def test_the_evaluator_process_drains_the_queue_and_stops_on_sigterm(
    sqlite_store: Store,
) -> None:
    settings = Settings(db=str(sqlite_store.engine.url))
    evaluation = OnlineEvaluation.from_settings(settings)
    spans = [model_span(chat_attributes(QUESTION, ANSWER), trace=trace_id()) for _ in range(5)]
    write_spans(sqlite_store, spans, RULES, NOW, evaluation=evaluation)
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "liveeval.ingest.evaluator"],
        env={**os.environ, SETTINGS_VARIABLE: settings.model_dump_json()},
        cwd=root,
    )
    try:
        wait_for(lambda: queued(sqlite_store) == 0, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    with sqlite_store.reading() as conn:
        assert len(scores_of(conn, interaction_ids(sqlite_store))) >= 20
