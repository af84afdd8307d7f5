"""Online evaluation at ingest: check scores, event scores, sampling decisions, judge jobs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_log_events, write_spans
from liveeval.ingest.scoring import OnlineEvaluation, on_signal
from liveeval.model import LogEvent, ScoreKind, ScoreStatus, Signal, SignalKind, Span
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, get_interaction, list_interactions
from liveeval.store.jobs import counts, jobs_of
from liveeval.store.sampling import decisions_of
from liveeval.store.schema import signals
from liveeval.store.scores import scores_of
from liveeval.store.signals import list_signals, record_signal
from tests.telemetry import (
    T0,
    chat_attributes,
    genai_attributes,
    model_log_event,
    model_span,
    span_id,
    trace_id,
)

RULES = AssemblyRules()
NOW = T0 + timedelta(minutes=1)
JUDGED = {"provider": "openai", "model": "gpt-4o-mini-2024-07-18"}
CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")


def evaluation(**settings: Any) -> OnlineEvaluation:
    """Inline: checks and sampling in the ingest transaction (the evaluator's own tests
    cover the background mode with the same rules)."""
    return OnlineEvaluation.from_settings(
        Settings.model_validate({"evaluation": "inline", **settings})
    )


chat = chat_attributes


def llm_span(question: str, answer: str, *, trace: str | None = None, **kw: Any) -> Span:
    return model_span(chat(question, answer), trace=trace or trace_id(), **kw)


def only_interaction(store: Store) -> int:
    with store.reading() as conn:
        [found] = list_interactions(conn, InteractionFilter(project="default"), limit=10)
    assert found.interaction_id is not None
    return found.interaction_id


GERMAN_Q = "Wie kann ich meine Kreditkarte sperren lassen, wenn ich sie verloren habe?"
GERMAN_A = "Sie können Ihre Karte in der App unter Einstellungen sperren lassen."
ENGLISH_A = "You can block your card in the app under Settings, then order a new one."


def test_every_interaction_gets_its_check_scores_at_ingest(store: Store) -> None:
    write_spans(store, [llm_span(GERMAN_Q, GERMAN_A)], RULES, NOW, evaluation=evaluation())
    iid = only_interaction(store)
    with store.reading() as conn:
        found = {s.name: s for s in scores_of(conn, [iid])}
    assert {"not_empty", "refusal", "length", "language"} <= set(found)
    assert "grounding" not in found  # no retrieved context: the check does not apply
    assert all(s.kind == ScoreKind.CHECK and s.status == ScoreStatus.OK for s in found.values())
    assert found["language"].value == 1.0 and found["refusal"].value == 1.0


def test_a_failed_check_is_a_zero_score_with_its_explanation(store: Store) -> None:
    write_spans(store, [llm_span(GERMAN_Q, ENGLISH_A)], RULES, NOW, evaluation=evaluation())
    iid = only_interaction(store)
    with store.reading() as conn:
        [language] = [s for s in scores_of(conn, [iid]) if s.name == "language"]
    assert language.value == 0.0 and language.details["passed"] is False
    assert language.explanation


def test_sending_a_trace_again_replaces_its_check_scores(store: Store) -> None:
    span = llm_span(GERMAN_Q, GERMAN_A)
    for _ in range(2):
        write_spans(store, [span], RULES, NOW, evaluation=evaluation())
    iid = only_interaction(store)
    with store.reading() as conn:
        names = [s.name for s in scores_of(conn, [iid])]
    assert len(names) == len(set(names))


def test_a_schema_failure_also_records_the_schema_invalid_signal(store: Store) -> None:
    checks = {
        "routes": {
            "/orders": [{"check": "json_schema", "name": "contract", "schema": {"type": "object"}}]
        }
    }
    span = model_span(
        chat("Where is my order?", "not json at all", **{"liveeval.route": "/orders"}),
        trace=trace_id(),
    )
    for _ in range(2):  # re-sent: still one signal
        write_spans(store, [span], RULES, NOW, evaluation=evaluation(checks=checks))
    iid = only_interaction(store)
    with store.reading() as conn:
        [contract] = [s for s in scores_of(conn, [iid]) if s.name == "contract"]
        found = list_signals(conn, [iid])
    assert contract.value == 0.0
    assert [s.kind for s in found] == [SignalKind.SCHEMA_INVALID]
    assert found[0].details["source"] == "check:contract"


def evaluation_event(**attributes: Any) -> tuple[str, dict[str, Any]]:
    return ("gen_ai.evaluation.result", attributes)


def test_an_evaluation_event_on_the_span_becomes_an_external_score(store: Store) -> None:
    span = model_span(
        chat("Hi", "Hello! How can I help?"),
        trace=trace_id(),
        events=[
            evaluation_event(
                **{
                    "gen_ai.evaluation.name": "Relevance",
                    "gen_ai.evaluation.score.value": 0.85,
                    "gen_ai.evaluation.score.label": "relevant",
                    "gen_ai.evaluation.explanation": "Greets and offers help.",
                }
            ),
            evaluation_event(**{"gen_ai.evaluation.score.value": "high"}),
        ],
    )
    for _ in range(2):  # a retried export does not add scores
        write_spans(store, [span], RULES, NOW, evaluation=evaluation())
    iid = only_interaction(store)
    with store.reading() as conn:
        external = [s for s in scores_of(conn, [iid]) if s.kind == ScoreKind.EXTERNAL]
    by_status = {s.status: s for s in external}
    assert len(external) == 2
    good = by_status[ScoreStatus.OK]
    assert (good.name, good.value, good.label) == ("Relevance", 0.85, "relevant")
    assert good.explanation == "Greets and offers help."
    bad = by_status[ScoreStatus.ERROR]
    assert "gen_ai.evaluation.name is missing" in (bad.error or "")
    assert "must be a number" in (bad.error or "") and bad.value is None


def test_an_evaluation_event_sent_as_a_log_record_names_its_interaction(store: Store) -> None:
    trace, llm = trace_id(), span_id()
    write_spans(
        store,
        [
            model_span(
                chat("Hi", "Hello"),
                trace=trace,
                span=llm,
            )
        ],
        RULES,
        NOW,
        evaluation=evaluation(),
    )
    event = LogEvent(
        project="default",
        trace_id=trace,
        span_id=llm,
        name="gen_ai.evaluation.result",
        at=T0,
        attributes={"gen_ai.evaluation.name": "toxicity", "gen_ai.evaluation.score.value": 0.0},
    )
    write_log_events(store, [event], RULES, NOW, evaluation=evaluation())
    iid = only_interaction(store)
    with store.reading() as conn:
        [toxicity] = [s for s in scores_of(conn, [iid]) if s.name == "toxicity"]
    assert toxicity.value == 0.0 and toxicity.kind == ScoreKind.EXTERNAL


def test_each_interaction_is_decided_once_with_a_reason(store: Store) -> None:
    span = llm_span(GERMAN_Q, GERMAN_A)
    judged = evaluation(judge=JUDGED, sampling={"policies": ["uniform"], "uniform": {"rate": 1.0}})
    for _ in range(2):
        write_spans(store, [span], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    with store.reading() as conn:
        decisions = decisions_of(conn, iid)
        queued = jobs_of(conn, iid)
    assert [(d.trigger, d.sampled, d.policy) for d in decisions] == [("ingest", True, "uniform")]
    assert "uniform: hash" in decisions[0].reason
    assert decisions[0].slice["language"] == "de"
    assert [(j["rubric"], j["state"]) for j in queued] == [("quality", "queued")]


def test_without_a_judge_decisions_are_recorded_and_no_job_is_queued(store: Store) -> None:
    write_spans(
        store,
        [llm_span(GERMAN_Q, GERMAN_A)],
        RULES,
        NOW,
        evaluation=evaluation(sampling={"policies": ["uniform"], "uniform": {"rate": 1.0}}),
    )
    iid = only_interaction(store)
    with store.reading() as conn:
        assert [d.sampled for d in decisions_of(conn, iid)] == [True]
        assert counts(conn)["queued"] == 0


def test_a_rate_of_zero_records_why_it_was_not_judged(store: Store) -> None:
    unsampled = evaluation(judge=JUDGED, sampling={"policies": ["uniform"], "uniform": {"rate": 0}})
    write_spans(store, [llm_span(GERMAN_Q, GERMAN_A)], RULES, NOW, evaluation=unsampled)
    iid = only_interaction(store)
    with store.reading() as conn:
        [decision] = decisions_of(conn, iid)
        assert jobs_of(conn, iid) == []
    assert not decision.sampled and decision.reason.startswith("not sampled: uniform")


def test_a_late_thumbs_down_sends_an_unsampled_interaction_to_the_judge(store: Store) -> None:
    judged = evaluation(judge=JUDGED, sampling={"uniform": {"rate": 0}, "stratified": {"floor": 0}})
    write_spans(store, [llm_span(GERMAN_Q, GERMAN_A)], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    later = NOW + timedelta(minutes=7)
    with store.writing() as conn:
        from liveeval.store.interactions import get_interaction

        interaction = get_interaction(conn, iid)
        assert interaction is not None
        decision = on_signal(conn, judged, interaction, SignalKind.THUMBS_DOWN, later)
        again = on_signal(conn, judged, interaction, SignalKind.REGENERATED, later)
        ignored = on_signal(conn, judged, interaction, SignalKind.THUMBS_UP, later)
    assert decision is not None and decision.sampled and decision.policy == "signal"
    assert again is None and ignored is None  # already sampled; thumbs-up never triggers
    with store.reading() as conn:
        triggers = [(d.trigger, d.sampled) for d in decisions_of(conn, iid)]
        [job] = jobs_of(conn, iid)
    assert triggers == [("ingest", False), ("signal:thumbs_down", True)]
    assert job["priority"] == 0 and "thumbs_down" in job["reason"]


def test_a_signal_that_waited_for_its_span_triggers_judging_at_ingest(store: Store) -> None:
    judged = evaluation(judge=JUDGED, sampling={"uniform": {"rate": 0}, "stratified": {"floor": 0}})
    trace = trace_id()
    with store.writing() as conn:
        record_signal(
            conn,
            Signal(project="default", kind=SignalKind.REGENERATED, occurred_at=T0, trace_id=trace),
            T0,
        )
    write_spans(store, [llm_span(GERMAN_Q, GERMAN_A, trace=trace)], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    with store.reading() as conn:
        [decision] = decisions_of(conn, iid)
        attached = conn.execute(sa.select(signals.c.interaction_id)).scalar_one()
    assert attached == iid
    assert decision.sampled and decision.policy == "signal" and "regenerated" in decision.reason


def test_a_failed_check_triggers_judging(store: Store) -> None:
    judged = evaluation(judge=JUDGED, sampling={"uniform": {"rate": 0}, "stratified": {"floor": 0}})
    write_spans(store, [llm_span(GERMAN_Q, "")], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    with store.reading() as conn:
        [decision] = decisions_of(conn, iid)
    assert decision.sampled and decision.policy == "signal"
    assert "not_empty" in decision.reason


def test_a_call_sent_without_content_is_not_evaluated_until_its_content_arrives(
    store: Store,
) -> None:
    """openai-v2's default span: the model and the tokens, no message. No check fails on
    it, the sampler and a thumbs-down pass it by; when its content comes in the details log
    event (EVENT_ONLY mode, whose logs may come after the span), it is checked and judged."""
    judged = evaluation(judge=JUDGED, sampling={"policies": ["uniform"], "uniform": {"rate": 1.0}})
    trace, llm = trace_id(), span_id()
    bare = model_span(genai_attributes(), trace=trace, span=llm)
    write_spans(store, [bare], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    with store.writing() as conn:
        interaction = get_interaction(conn, iid)
        assert interaction is not None and not interaction.content_captured
        assert scores_of(conn, [iid]) == []
        assert decisions_of(conn, iid) == [] and jobs_of(conn, iid) == []
        assert on_signal(conn, judged, interaction, SignalKind.THUMBS_DOWN, NOW) is None
    content = chat_attributes(GERMAN_Q, GERMAN_A)
    details = model_log_event(
        "gen_ai.client.inference.operation.details",
        trace=trace,
        span=llm,
        body={key: json.loads(content[key]) for key in CONTENT_KEYS},
    )
    write_log_events(store, [details], RULES, NOW, evaluation=judged)
    with store.reading() as conn:
        checked = {s.name: s.value for s in scores_of(conn, [iid])}
        decisions = [(d.trigger, d.sampled) for d in decisions_of(conn, iid)]
    assert checked["not_empty"] == 1.0 and checked["language"] == 1.0
    assert decisions == [("ingest", True)]


def test_a_failed_call_fails_no_check_and_is_not_judged(store: Store) -> None:
    """A provider error is an error (the error rate counts it), not an empty answer."""
    judged = evaluation(judge=JUDGED, sampling={"uniform": {"rate": 0}, "stratified": {"floor": 0}})
    question = chat_attributes(GERMAN_Q, "")
    del question["gen_ai.output.messages"]
    failed = model_span(
        {**question, "error.type": "openai.RateLimitError"}, trace=trace_id(), status="error"
    )
    write_spans(store, [failed], RULES, NOW, evaluation=judged)
    iid = only_interaction(store)
    with store.reading() as conn:
        interaction = get_interaction(conn, iid)
        assert interaction is not None and interaction.status == "error"
        assert [s.name for s in scores_of(conn, [iid]) if s.value == 0.0] == []
        assert decisions_of(conn, iid) == [] and jobs_of(conn, iid) == []


def test_strata_floors_count_the_batch_itself(store: Store) -> None:
    judged = evaluation(
        judge=JUDGED,
        sampling={
            "policies": ["stratified"],
            "stratified": {"dimensions": ["route"], "floor": 3},
        },
    )
    batch = [
        model_span(chat(GERMAN_Q, GERMAN_A, **{"liveeval.route": "/rare"}), trace=trace_id())
        for _ in range(10)
    ]
    write_spans(store, batch, RULES, NOW, evaluation=judged)
    with store.reading() as conn:
        assert counts(conn)["queued"] == 3
