from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from liveeval.ingest.assemble import AssemblyRules, assemble
from liveeval.ingest.pipeline import Written, write_log_events, write_spans
from liveeval.model import Interaction, Signal, SignalKind, Span
from liveeval.store.database import Store
from liveeval.store.interactions import InteractionFilter, list_interactions
from liveeval.store.schema import interactions, log_events, signals, spans
from liveeval.store.signals import record_signal
from tests.telemetry import (
    T0,
    genai_attributes,
    model_log_event,
    model_span,
    retriever_attributes,
    span_id,
    trace_id,
)

RULES = AssemblyRules()
NOW = T0 + timedelta(minutes=5)


def stored(store: Store, project: str = "default") -> list[Interaction]:
    with store.reading() as conn:
        return list_interactions(conn, InteractionFilter(project=project), limit=1000)


def count(store: Store, table: sa.Table) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def rag_trace() -> tuple[Span, Span, Span]:
    """A request span, a retriever under it, and the LLM call that used the documents."""
    trace, root = trace_id(), span_id()
    request = model_span(
        {"liveeval.route": "/ask", "liveeval.prompt.version": "v3", "liveeval.segment": "pro"},
        trace=trace,
        span=root,
        name="request",
        duration=timedelta(seconds=2),
    )
    retriever = model_span(
        retriever_attributes("Paris is the capital of France."),
        trace=trace,
        parent=root,
        name="retrieve",
        start=T0 + timedelta(milliseconds=5),
    )
    llm = model_span(
        genai_attributes(response_id="chatcmpl-1"),
        trace=trace,
        parent=root,
        start=T0 + timedelta(milliseconds=100),
    )
    return request, retriever, llm


def comparable(i: Interaction) -> Interaction:
    i.interaction_id = None
    return i


def test_a_whole_trace_in_one_export_becomes_one_complete_interaction(store: Store) -> None:
    request, retriever, llm = rag_trace()
    written = write_spans(store, [request, retriever, llm], RULES, NOW)
    assert written == Written(spans=3, interactions=1)
    [interaction] = stored(store)
    assert interaction.span_id == llm.span_id
    assert interaction.route == "/ask"
    assert interaction.prompt_version == "v3"
    assert interaction.segment == "pro"
    assert [d.content for d in interaction.retrieved_context] == ["Paris is the capital of France."]
    assert interaction.response_id == "chatcmpl-1"
    assert interaction.usage.input == 10
    assert interaction.usage.output == 5


@pytest.mark.parametrize(
    "order",
    [
        ((2,), (0, 1)),  # the LLM span first, as a batch exporter sends it (it ends first)
        ((0, 1), (2,)),
        ((1,), (2,), (0,)),
        ((0,), (2,), (1,)),
    ],
)
def test_spans_of_a_trace_sent_in_separate_exports_give_the_same_interaction(
    store: Store, order: tuple[tuple[int, ...], ...]
) -> None:
    trace_spans = rag_trace()
    for export in order:
        write_spans(store, [trace_spans[i] for i in export], RULES, NOW)
    [interaction] = stored(store)

    expected = assembled_together(trace_spans)
    assert comparable(interaction) == comparable(expected)
    assert interaction.route == "/ask"
    assert len(interaction.retrieved_context) == 1


def assembled_together(trace_spans: tuple[Span, ...]) -> Interaction:
    """The interaction the same spans make when sent together (assembled in memory)."""
    [interaction] = assemble(list(trace_spans), [], RULES)
    return interaction


def test_a_retried_export_creates_no_duplicates(store: Store) -> None:
    batch = list(rag_trace())
    write_spans(store, batch, RULES, NOW)
    first = stored(store)
    write_spans(store, batch, RULES, NOW + timedelta(seconds=30))
    again = stored(store)
    assert count(store, spans) == 3
    assert count(store, interactions) == 1
    assert again == first


def test_a_retried_log_export_stores_each_event_once(store: Store) -> None:
    trace, llm = trace_id(), span_id()
    events = [model_log_event("gen_ai.user.message", trace=trace, span=llm, body={"content": "q"})]
    write_log_events(store, events, RULES, NOW)
    write_log_events(store, events, RULES, NOW)
    assert count(store, log_events) == 1


def _log_events(trace: str, llm: str) -> list:
    return [
        model_log_event(
            "gen_ai.system.message", trace=trace, span=llm, body={"content": "Be brief."}
        ),
        model_log_event(
            "gen_ai.user.message", trace=trace, span=llm, body={"content": "Capital of France?"}
        ),
        model_log_event(
            "gen_ai.choice",
            trace=trace,
            span=llm,
            body={"index": 0, "finish_reason": "stop", "message": {"content": "Paris."}},
        ),
    ]


@pytest.mark.parametrize("events_first", [True, False])
def test_genai_log_events_fill_input_and_output_whichever_arrives_first(
    store: Store, events_first: bool
) -> None:
    trace, llm = trace_id(), span_id()
    span = model_span(genai_attributes(), trace=trace, span=llm)
    if events_first:
        assert write_log_events(store, _log_events(trace, llm), RULES, NOW).interactions == 0
        assert stored(store) == []
        write_spans(store, [span], RULES, NOW)
    else:
        write_spans(store, [span], RULES, NOW)
        assert stored(store)[0].output_text is None
        assert write_log_events(store, _log_events(trace, llm), RULES, NOW).interactions == 1
    [interaction] = stored(store)
    assert interaction.input_text == "Capital of France?"
    assert [(m.role, m.content) for m in interaction.input_messages] == [
        ("system", "Be brief."),
        ("user", "Capital of France?"),
    ]
    assert interaction.output_text == "Paris."
    assert interaction.finish_reasons == ("stop",)


def test_spans_of_different_projects_stay_apart(store: Store) -> None:
    trace = trace_id()
    write_spans(
        store,
        [
            model_span(genai_attributes(), trace=trace, project="a"),
            model_span(genai_attributes(), trace=trace_id(), project="b"),
        ],
        RULES,
        NOW,
    )
    assert [i.trace_id for i in stored(store, "a")] == [trace]
    assert len(stored(store, "b")) == 1
    assert stored(store, "default") == []


def test_a_signal_stored_before_its_span_is_attached_when_the_span_arrives(store: Store) -> None:
    request, retriever, llm = rag_trace()
    with store.writing() as conn:
        by_trace = record_signal(
            conn,
            Signal("default", SignalKind.THUMBS_DOWN, T0, trace_id=llm.trace_id),
            NOW,
        )
        by_response = record_signal(
            conn,
            Signal("default", SignalKind.RATING, T0, response_id="chatcmpl-1", value=2.0),
            NOW,
        )
    assert by_trace.interaction_id is None and by_response.interaction_id is None

    written = write_spans(store, [request, retriever, llm], RULES, NOW)

    assert written.signals_attached == 2
    [interaction] = stored(store)
    with store.reading() as conn:
        attached = conn.execute(
            sa.select(signals.c.signal_id, signals.c.interaction_id).order_by(signals.c.signal_id)
        ).all()
    assert attached == [
        (by_trace.signal_id, interaction.interaction_id),
        (by_response.signal_id, interaction.interaction_id),
    ]


def test_a_pending_signal_of_another_project_is_not_attached(store: Store) -> None:
    llm = model_span(genai_attributes(), trace=trace_id(), project="a")
    with store.writing() as conn:
        record_signal(conn, Signal("b", SignalKind.THUMBS_UP, T0, trace_id=llm.trace_id), NOW)
    assert write_spans(store, [llm], RULES, NOW).signals_attached == 0


def test_values_longer_than_their_columns_are_cut_and_the_batch_kept(store: Store) -> None:
    long = "m" * 300
    trace, llm = trace_id(), span_id()
    attributes = genai_attributes(
        model=long,
        served=long,
        response_id=long,
        **{
            "gen_ai.provider.name": long,
            "gen_ai.conversation.id": long,
            "gen_ai.prompt.version": long,
            "user.id": long,
        },
    )
    span = model_span(attributes, trace=trace, span=llm, scope="s" * 300)
    odd = model_span({"openinference.span.kind": "x" * 100}, trace=trace, name="odd")
    event = model_log_event("gen_ai." + "e" * 300, trace=trace, span=llm, body="x")
    write_log_events(store, [event], RULES, NOW)
    assert write_spans(store, [span, odd], RULES, NOW).spans == 2
    [interaction] = stored(store)
    assert interaction.model_requested == "m" * 200
    assert interaction.model_served == "m" * 200
    assert interaction.response_id == "m" * 200
    assert interaction.provider == "m" * 100
    assert interaction.session_id == "m" * 200
    assert interaction.prompt_version == "m" * 200
    assert interaction.user_id == "m" * 200
    assert count(store, spans) == 2
    assert count(store, log_events) == 1
    with store.reading() as conn:
        scopes = set(conn.execute(sa.select(spans.c.scope)).scalars())
        span_types = set(conn.execute(sa.select(spans.c.span_type)).scalars())
    assert scopes == {"s" * 200, "tests"}
    assert span_types == {"llm", "x" * 30}
