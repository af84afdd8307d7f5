from __future__ import annotations

from datetime import timedelta

import pytest

from liveeval.ingest.assemble import AssemblyRules, assemble, hash_user_id, span_type
from liveeval.model import RetrievedDocument
from tests.telemetry import (
    T0,
    chat_attributes,
    genai_attributes,
    model_log_event,
    model_span,
    retriever_attributes,
    span_id,
    trace_id,
)

RULES = AssemblyRules()


def test_only_llm_spans_become_interactions() -> None:
    trace = trace_id()
    spans = [
        model_span({"liveeval.route": "/chat"}, trace=trace, name="handler"),
        model_span(retriever_attributes("a doc"), trace=trace, name="retrieve"),
        model_span(genai_attributes(), trace=trace),
    ]
    [interaction] = assemble(spans, [], RULES)
    assert interaction.name == "chat gpt-4o-mini"
    assert interaction.convention == "genai"
    assert interaction.model_requested == "gpt-4o-mini"
    assert interaction.model_served == "gpt-4o-mini-2024-07-18"


def test_route_prompt_version_and_segment_are_inherited_from_ancestors() -> None:
    trace, root, middle = trace_id(), span_id(), span_id()
    spans = [
        model_span(
            {"liveeval.route": "/support", "liveeval.segment": "enterprise"},
            trace=trace,
            span=root,
            name="request",
        ),
        model_span(
            {"liveeval.prompt.version": "v7", "liveeval.segment": "trial"},
            trace=trace,
            span=middle,
            parent=root,
            name="agent",
        ),
        model_span(genai_attributes(), trace=trace, parent=middle),
    ]
    [interaction] = assemble(spans, [], RULES)
    assert interaction.route == "/support"
    assert interaction.prompt_version == "v7"
    assert interaction.segment == "trial"  # the nearest ancestor wins


def test_attributes_on_the_llm_span_win_over_its_ancestors() -> None:
    trace, root = trace_id(), span_id()
    spans = [
        model_span({"liveeval.route": "/outer"}, trace=trace, span=root, name="request"),
        model_span(genai_attributes(**{"liveeval.route": "/inner"}), trace=trace, parent=root),
    ]
    [interaction] = assemble(spans, [], RULES)
    assert interaction.route == "/inner"


def test_the_resource_is_the_last_place_looked_in() -> None:
    span = model_span(
        genai_attributes(),
        trace=trace_id(),
        resource={"liveeval.route": "/from-resource", "service.name": "shop"},
    )
    [interaction] = assemble([span], [], RULES)
    assert interaction.route == "/from-resource"


def test_a_retriever_that_ran_before_the_llm_call_gives_its_documents_as_context() -> None:
    trace, root = trace_id(), span_id()
    spans = [
        model_span({}, trace=trace, span=root, name="request", duration=timedelta(seconds=2)),
        model_span(
            retriever_attributes("Paris is in France.", "Lyon too."),
            trace=trace,
            parent=root,
            name="retrieve",
            start=T0 + timedelta(milliseconds=10),
        ),
        model_span(
            genai_attributes(), trace=trace, parent=root, start=T0 + timedelta(milliseconds=300)
        ),
        model_span(
            retriever_attributes("too late"),
            trace=trace,
            parent=root,
            name="retrieve-after",
            start=T0 + timedelta(milliseconds=900),
        ),
    ]
    [interaction] = assemble(spans, [], RULES)
    assert interaction.retrieved_context == (
        RetrievedDocument(content="Paris is in France.", id="doc-0"),
        RetrievedDocument(content="Lyon too.", id="doc-1"),
    )


def test_interactions_of_different_traces_do_not_share_context() -> None:
    first, second = trace_id(), trace_id()
    spans = [
        model_span(retriever_attributes("for the first"), trace=first, name="retrieve"),
        model_span(genai_attributes(), trace=first, start=T0 + timedelta(seconds=1)),
        model_span(genai_attributes(), trace=second, start=T0 + timedelta(seconds=1)),
    ]
    by_trace = {i.trace_id: i for i in assemble(spans, [], RULES)}
    assert [d.content for d in by_trace[first].retrieved_context] == ["for the first"]
    assert by_trace[second].retrieved_context == ()


def test_log_events_of_the_span_fill_input_and_output() -> None:
    trace, llm = trace_id(), span_id()
    events = [
        model_log_event("gen_ai.user.message", trace=trace, span=llm, body={"content": "Hi?"}),
        model_log_event(
            "gen_ai.choice",
            trace=trace,
            span=llm,
            body={"index": 0, "finish_reason": "stop", "message": {"content": "Hello!"}},
        ),
    ]
    [interaction] = assemble([model_span(genai_attributes(), trace=trace, span=llm)], events, RULES)
    assert interaction.input_text == "Hi?"
    assert interaction.output_text == "Hello!"


def test_log_events_of_another_span_are_not_used() -> None:
    trace, llm = trace_id(), span_id()
    events = [
        model_log_event("gen_ai.user.message", trace=trace, span=span_id(), body={"content": "x"})
    ]
    [interaction] = assemble([model_span(genai_attributes(), trace=trace, span=llm)], events, RULES)
    assert interaction.input_text is None


def test_user_ids_are_hashed_with_the_salt_when_configured() -> None:
    span = model_span(genai_attributes(**{"user.id": "alice"}), trace=trace_id())
    [plain] = assemble([span], [], RULES)
    [hashed] = assemble([span], [], AssemblyRules(hash_user_ids=True, user_id_salt="pepper"))
    assert plain.user_id == "alice"
    assert hashed.user_id == hash_user_id("alice", "pepper")
    assert hashed.user_id != hash_user_id("alice", "salt")
    assert hashed.user_id.startswith("h:") and "alice" not in hashed.user_id


def test_a_failed_span_reports_its_exception_as_the_error() -> None:
    span = model_span(
        genai_attributes(),
        trace=trace_id(),
        status="error",
        events=[
            ("exception", {"exception.type": "RateLimitError", "exception.message": "slow down"})
        ],
    )
    [interaction] = assemble([span], [], RULES)
    assert interaction.status == "error"
    assert interaction.error == "RateLimitError: slow down"


def test_latency_is_the_span_duration() -> None:
    span = model_span(genai_attributes(), trace=trace_id(), duration=timedelta(milliseconds=1234))
    [interaction] = assemble([span], [], RULES)
    assert interaction.latency_ms == pytest.approx(1234.0)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"openinference.span.kind": "RETRIEVER"}, "retriever"),
        ({"openinference.span.kind": "LLM"}, "llm"),
        ({"gen_ai.operation.name": "chat"}, "llm"),
        ({"gen_ai.operation.name": "execute_tool"}, "tool"),
        ({"gen_ai.operation.name": "embeddings"}, "embedding"),
        ({"http.method": "GET"}, None),
    ],
)
def test_span_type_names_what_a_span_is(attributes: dict, expected: str | None) -> None:
    assert span_type(model_span(attributes, trace=trace_id())) == expected


def test_error_type_alone_marks_the_call_failed() -> None:
    """The GenAI conventions set `error.type` when a call failed, status or not."""
    span = model_span(genai_attributes(**{"error.type": "RateLimitError"}), trace=trace_id())
    [interaction] = assemble([span], [], RULES)
    assert (interaction.status, interaction.error) == ("error", "RateLimitError")


def test_content_is_captured_when_the_span_has_messages_even_an_empty_answer() -> None:
    trace = trace_id()
    bare = model_span(genai_attributes(), trace=trace)
    answered = model_span(chat_attributes("Hi?", ""), trace=trace)
    [without, empty] = assemble([bare, answered], [], RULES)
    assert not without.content_captured  # the instrumentations' default: metadata only
    assert empty.content_captured and empty.output_text == ""
