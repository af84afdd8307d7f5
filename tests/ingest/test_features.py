"""Drift features written by evaluation: lengths, the input's language, intent rules."""

from __future__ import annotations

from datetime import timedelta

from liveeval.config import Settings
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.evaluator import evaluate_pending
from liveeval.ingest.features import input_language
from liveeval.ingest.pipeline import write_spans
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.store.database import Store
from liveeval.store.features import features_of
from liveeval.store.interactions import InteractionFilter, list_interactions
from tests.conftest import Clock
from tests.telemetry import T0, chat_attributes, model_span, trace_id

QUESTION = "Wie kann ich meine Kreditkarte sperren lassen, wenn ich sie verloren habe?"
ANSWER = "Sie können Ihre Karte in der App unter Einstellungen sperren lassen."


def stored_features(store: Store) -> list[object]:
    with store.reading() as conn:
        found = list_interactions(conn, InteractionFilter(project="default"), limit=100)
        return [features_of(conn, i.interaction_id or 0) for i in found]


def test_background_evaluation_writes_lengths_language_and_intent(store: Store) -> None:
    settings = Settings.model_validate(
        {"monitor": {"drift": {"intents": {"card_lost": ["kreditkarte", "karte"]}}}}
    )
    evaluation = OnlineEvaluation.from_settings(settings)
    spans = [model_span(chat_attributes(QUESTION, ANSWER), trace=trace_id()) for _ in range(3)]
    write_spans(store, spans, AssemblyRules(), T0, evaluation=evaluation)
    assert stored_features(store) == [None, None, None]  # the evaluator has not run yet
    evaluate_pending(store, evaluation, Clock(T0 + timedelta(minutes=1)))
    found = stored_features(store)
    assert {(f.input_chars, f.output_chars, f.language, f.intent) for f in found} == {  # type: ignore[attr-defined]
        (len(QUESTION), len(ANSWER), "de", "card_lost")
    }


def test_inline_evaluation_writes_features_in_the_ingest_transaction(store: Store) -> None:
    evaluation = OnlineEvaluation.from_settings(Settings(evaluation="inline"))
    span = model_span(
        chat_attributes("Where is my parcel? It was due yesterday.", "It left the depot today."),
        trace=trace_id(),
    )
    write_spans(store, [span], AssemblyRules(), T0, evaluation=evaluation)
    (found,) = stored_features(store)
    assert found is not None and found.language == "en" and found.intent is None  # type: ignore[attr-defined]


def test_the_input_language_is_detected_when_no_language_check_ran() -> None:
    assert input_language("Où est mon colis ? Il devait arriver hier matin.", []) == "fr"
    assert input_language("", []) is None
