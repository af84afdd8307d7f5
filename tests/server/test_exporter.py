"""The real OpenTelemetry SDK and its OTLP/HTTP exporter against a real liveeval server."""

from __future__ import annotations

import json

import pytest
from opentelemetry.context import Context, get_current
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode, set_span_in_context

from liveeval.model import Interaction
from liveeval.store.interactions import InteractionFilter, list_interactions
from tests.conftest import RunningServer

GENAI_INPUT = [
    {"role": "system", "parts": [{"type": "text", "content": "Answer from the context."}]},
    {"role": "user", "parts": [{"type": "text", "content": "When does the shop open?"}]},
]
GENAI_OUTPUT = [
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "At nine."}],
        "finish_reason": "stop",
    }
]


def tracer_provider(server: RunningServer, compression: Compression) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": "bookshop"}))
    exporter = OTLPSpanExporter(
        endpoint=f"{server.url}/v1/traces", compression=compression, timeout=10
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def stored(server: RunningServer, project: str) -> dict[str, Interaction]:
    with server.store.reading() as conn:
        rows = list_interactions(conn, InteractionFilter(project=project), limit=100)
    return {i.convention: i for i in rows}


def send_rag_request(provider: TracerProvider) -> tuple[str, str, str]:
    """A request with a retriever, a GenAI chat call and an OpenInference LLM call."""
    tracer = provider.get_tracer("tests.bookshop")
    with tracer.start_as_current_span(
        "POST /ask",
        kind=SpanKind.SERVER,
        attributes={
            "liveeval.route": "/ask",
            "liveeval.prompt.version": "answer-v9",
            "liveeval.segment": "beta",
            "session.id": "sess-42",
        },
    ) as root:
        with tracer.start_as_current_span(
            "retrieve",
            attributes={
                "openinference.span.kind": "RETRIEVER",
                "retrieval.documents.0.document.id": "hours",
                "retrieval.documents.0.document.content": "Open 9 to 5.",
                "retrieval.documents.0.document.score": 0.91,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.response.id": "chatcmpl-abc",
                "gen_ai.response.finish_reasons": ["stop"],
                "gen_ai.usage.input_tokens": 42,
                "gen_ai.usage.output_tokens": 3,
                "gen_ai.input.messages": json.dumps(GENAI_INPUT),
                "gen_ai.output.messages": json.dumps(GENAI_OUTPUT),
            },
        ) as genai_span:
            pass
        with tracer.start_as_current_span(
            "ChatCompletion",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.provider": "openai",
                "llm.model_name": "gpt-4.1-2025-04-14",
                "llm.invocation_parameters": json.dumps({"model": "gpt-4.1"}),
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": "Summarise: open 9 to 5.",
                "llm.output_messages.0.message.role": "assistant",
                "llm.output_messages.0.message.content": "Open nine to five.",
                "llm.token_count.prompt": 12,
                "llm.token_count.completion": 5,
                "llm.token_count.total": 17,
            },
        ) as oi_span:
            oi_span.set_status(StatusCode.ERROR, "upstream timeout")
    return (
        format(root.get_span_context().trace_id, "032x"),
        format(genai_span.get_span_context().span_id, "016x"),
        format(oi_span.get_span_context().span_id, "016x"),
    )


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_from_the_sdk_exporter_become_interactions(
    live_server: RunningServer, compression: Compression
) -> None:
    provider = tracer_provider(live_server, compression)
    try:
        trace, genai_span_id, oi_span_id = send_rag_request(provider)
    finally:
        provider.shutdown()

    by_convention = stored(live_server, "bookshop")
    assert set(by_convention) == {"genai", "openinference"}
    genai, oi = by_convention["genai"], by_convention["openinference"]

    assert (genai.trace_id, genai.span_id) == (trace, genai_span_id)
    assert genai.project == "bookshop"
    assert genai.operation == "chat"
    assert genai.provider == "openai"
    assert genai.model_requested == "gpt-4o-mini"
    assert genai.model_served == "gpt-4o-mini-2024-07-18"
    assert genai.response_id == "chatcmpl-abc"
    assert genai.finish_reasons == ("stop",)
    assert (genai.usage.input, genai.usage.output) == (42, 3)
    assert genai.input_text == "When does the shop open?"
    assert [m.role for m in genai.input_messages] == ["system", "user"]
    assert genai.output_text == "At nine."
    assert genai.status == "unset"

    assert (oi.trace_id, oi.span_id) == (trace, oi_span_id)
    assert oi.model_requested == "gpt-4.1"
    assert oi.model_served == "gpt-4.1-2025-04-14"
    assert oi.input_text == "Summarise: open 9 to 5."
    assert oi.output_text == "Open nine to five."
    assert (oi.usage.input, oi.usage.output, oi.usage.total) == (12, 5, 17)
    assert oi.status == "error"
    assert oi.error == "upstream timeout"

    for interaction in (genai, oi):
        assert interaction.route == "/ask"
        assert interaction.prompt_version == "answer-v9"
        assert interaction.segment == "beta"
        assert interaction.session_id == "sess-42"
        [document] = interaction.retrieved_context
        assert (document.id, document.content, document.score) == ("hours", "Open 9 to 5.", 0.91)


@pytest.mark.parametrize("events_first", [True, False], ids=["events-first", "span-first"])
def test_genai_log_events_from_the_sdk_logs_api_fill_the_interaction(
    live_server: RunningServer, events_first: bool
) -> None:
    """The per-message GenAI events (gen_ai.user.message, gen_ai.choice) as log records."""
    resource = Resource.create({"service.name": "bookshop"})
    tracing = TracerProvider(resource=resource)
    tracing.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", timeout=10))
    )
    logging = LoggerProvider(resource=resource)
    logging.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(
                endpoint=f"{live_server.url}/v1/logs", compression=Compression.Gzip, timeout=10
            )
        )
    )
    logger = logging.get_logger("tests.events")
    messages = [
        ("gen_ai.system.message", {"content": "Be terse."}),
        ("gen_ai.user.message", {"content": "Is it open on Sunday?"}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": {"content": "No."}}),
    ]

    def emit_events(context: Context) -> None:
        for event_name, body in messages:
            logger.emit(
                event_name=event_name,
                body=body,
                attributes={"gen_ai.system": "openai"},
                context=context,
            )

    try:
        with tracing.get_tracer("tests").start_as_current_span(
            "chat gpt-4o-mini",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
            },
        ) as span:
            if events_first:  # exported now, while the span is still open
                emit_events(get_current())
        if not events_first:  # exported after the span, naming it explicitly
            emit_events(set_span_in_context(span))
    finally:
        tracing.shutdown()
        logging.shutdown()

    [interaction] = stored(live_server, "bookshop").values()
    assert interaction.span_id == format(span.get_span_context().span_id, "016x")
    assert [(m.role, m.content) for m in interaction.input_messages] == [
        ("system", "Be terse."),
        ("user", "Is it open on Sunday?"),
    ]
    assert interaction.input_text == "Is it open on Sunday?"
    assert interaction.output_text == "No."
    assert interaction.finish_reasons == ("stop",)
