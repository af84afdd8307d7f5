import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from liveeval.ingest.genai import extract_genai
from liveeval.model import LogEvent, Message, Span, SpanEvent, TokenUsage, ToolCall
from tests.ingest.spans import T0, make_span

WEATHER = ToolCall(name="get_weather", arguments='{"city": "Paris"}', id="call_1")


def span_event(name: str, attributes: dict[str, Any]) -> SpanEvent:
    return SpanEvent(name=name, at=T0, attributes=attributes)


def log_event(name: str, body: Any = None, attributes: dict[str, Any] | None = None) -> LogEvent:
    return LogEvent(
        project="demo",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        name=name,
        at=T0,
        attributes=attributes or {},
        body=body,
    )


def chat(**attributes: Any) -> dict[str, Any]:
    return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", **attributes}


# -- what the real instrumentation library writes ----------------------------------------


def plain(value: Any) -> Any:
    """SDK attribute values as our OTLP decoder gives them: tuples become lists."""
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def to_span(readable: ReadableSpan) -> Span:
    events = [
        SpanEvent(
            e.name, datetime.fromtimestamp(e.timestamp / 1e9, UTC), plain(dict(e.attributes or {}))
        )
        for e in readable.events
    ]
    return make_span(plain(dict(readable.attributes or {})), events)


CHAT_COMPLETION = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1735689600,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 31,
        "completion_tokens": 12,
        "total_tokens": 43,
        "prompt_tokens_details": {"cached_tokens": 8},
        "completion_tokens_details": {"reasoning_tokens": 5},
    },
}
CHAT_REQUEST: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "c0",
                "type": "function",
                "function": {"name": "f", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c0", "content": "18C"},
    {"role": "user", "content": "And tomorrow?"},
]


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real openai client call, instrumented by opentelemetry-instrumentation-openai-v2.

    The OpenAI API itself is the one boundary replaced: an httpx MockTransport answers
    like it (a paid API we cannot reach here). The instrumentation and the OTel SDK are real.
    """
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()

    def run(capture_mode: str | None) -> tuple[Span, list[LogEvent]]:
        """`capture_mode` None: the variable unset, the instrumentation's default."""
        if capture_mode is None:
            monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
        else:
            monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", capture_mode)
        spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
        tracer_provider, logger_provider = TracerProvider(), LoggerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
        try:
            transport = httpx.MockTransport(
                lambda request: httpx.Response(200, json=CHAT_COMPLETION)
            )
            with httpx.Client(transport=transport) as http_client:
                client = openai.OpenAI(
                    api_key="test", base_url="http://openai.test/v1", http_client=http_client
                )
                client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=CHAT_REQUEST,  # type: ignore[arg-type]
                )
        finally:
            instrumentor.uninstrument()
        logged = [
            LogEvent(
                "demo",
                "t",
                "s",
                r.log_record.event_name or "",
                T0,
                plain(dict(r.log_record.attributes or {})),
                plain(r.log_record.body),
            )
            for r in logs.get_finished_logs()
        ]
        return to_span(spans.get_finished_spans()[0]), logged

    yield run


EXPECTED_INPUTS = (
    Message(role="system", content="You are terse."),
    Message(role="user", content="Weather in Paris?"),
    Message(role="assistant", tool_calls=(ToolCall("f", '{"city": "Paris"}', "c0"),)),
    Message(role="tool", content="18C", tool_call_id="c0"),
    Message(role="user", content="And tomorrow?"),
)
EXPECTED_OUTPUT = Message(
    role="assistant", content="Let me check.", tool_calls=(WEATHER,), finish_reason="tool_calls"
)


def test_reads_what_openai_v2_writes_on_the_span(telemetry: Any) -> None:
    span, logs = telemetry("SPAN_ONLY")
    assert isinstance(span.attributes["gen_ai.input.messages"], str)  # JSON text on spans
    assert logs == []
    call = extract_genai(span, logs)
    assert call is not None
    assert call.convention == "genai"
    assert call.operation == "chat"
    assert call.provider == "openai"
    assert (call.model_requested, call.model_served) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    assert call.response_id == "chatcmpl-abc123"
    assert call.finish_reasons == ("tool_calls",)
    assert call.input_messages == EXPECTED_INPUTS
    assert call.input_text == "And tomorrow?"
    assert call.output_messages == (EXPECTED_OUTPUT,)
    assert call.output_text == "Let me check."
    assert call.tool_calls == (WEATHER,)
    # openai-v2 2.4b0 records input and output tokens only (not cached or reasoning ones).
    assert not any("cache" in key or "reasoning" in key for key in span.attributes)
    assert call.usage == TokenUsage(input=31, output=12, total=43)
    assert call.session_id is None  # the app sets no conversation id here
    assert call.cost_usd is None


def test_reads_what_openai_v2_writes_on_the_details_log_event(telemetry: Any) -> None:
    span, logs = telemetry("EVENT_ONLY")
    assert "gen_ai.input.messages" not in span.attributes
    assert [log.name for log in logs] == ["gen_ai.client.inference.operation.details"]
    call = extract_genai(span, logs)
    assert call is not None
    assert call.input_messages == EXPECTED_INPUTS
    assert call.output_messages == (EXPECTED_OUTPUT,)
    assert call.usage.input == 31
    without_logs = extract_genai(span)
    assert without_logs is not None
    assert without_logs.input_messages == ()  # metadata only
    assert without_logs.usage.input == 31


def test_openai_v2_records_no_content_by_default_and_none_is_read(telemetry: Any) -> None:
    span, logs = telemetry(None)
    assert logs == [] and not any("messages" in key for key in span.attributes)
    call = extract_genai(span, logs)
    assert call is not None
    assert (call.input_messages, call.input_text) == ((), None)
    assert (call.output_messages, call.output_text, call.tool_calls) == ((), None, ())
    assert call.usage.input == 31 and call.finish_reasons == ("tool_calls",)


# -- the current attribute form ------------------------------------------------------------

INPUT_MESSAGES = [
    {
        "role": "user",
        "parts": [{"type": "text", "content": "Hi"}, {"type": "text", "content": "there"}],
    },
    {"role": "assistant", "parts": [{"type": "reasoning", "content": "thinking..."}]},
    {
        "role": "user",
        "parts": [
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBO"},
            {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
            {"type": "text", "content": "What is this?"},
        ],
    },
]
OUTPUT_MESSAGES = [
    {
        "role": "assistant",
        "finish_reason": "stop",
        "parts": [{"type": "text", "content": "A cat."}],
    },
    {"role": "assistant", "finish_reason": "length", "parts": [{"type": "text", "content": "A"}]},
]


@pytest.mark.parametrize("encode", [json.dumps, lambda value: value], ids=["json", "structured"])
def test_reads_message_attributes_as_json_text_or_structures(encode: Any) -> None:
    span = make_span(
        chat(
            **{
                "gen_ai.system_instructions": encode([{"type": "text", "content": "Be kind."}]),
                "gen_ai.input.messages": encode(INPUT_MESSAGES),
                "gen_ai.output.messages": encode(OUTPUT_MESSAGES),
            }
        )
    )
    call = extract_genai(span)
    assert call is not None
    assert call.input_messages == (
        Message(role="system", content="Be kind."),
        Message(role="user", content="Hi\nthere"),
        Message(role="assistant"),
        Message(role="user", content="What is this?"),
    )
    assert call.input_text == "What is this?"
    assert call.output_messages == (
        Message(role="assistant", content="A cat.", finish_reason="stop"),
        Message(role="assistant", content="A", finish_reason="length"),
    )
    assert call.output_text == "A cat."
    assert call.finish_reasons == ("stop", "length")  # from the messages when not on the span


def test_reads_tool_call_responses_as_tool_messages() -> None:
    response = {"type": "tool_call_response", "id": "call_1", "response": {"temp": 18}}
    span = make_span(chat(**{"gen_ai.input.messages": [{"role": "tool", "parts": [response]}]}))
    call = extract_genai(span)
    assert call is not None
    assert call.input_messages == (
        Message(role="tool", content='{"temp": 18}', tool_call_id="call_1"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('[{"type": "text", "content": "A"}, {"type": "text", "content": "B"}]', "A\nB"),
        ("You are a pirate.", "You are a pirate."),
        ("1984", "1984"),
        ('"quoted"', "quoted"),
        ({"role": "system", "message": {"type": "text", "content": "Old schema."}}, "Old schema."),
        (
            [{"role": "system", "parts": [{"type": "text", "content": "As a message."}]}],
            "As a message.",
        ),
    ],
)
def test_reads_system_instructions_in_each_shape(value: Any, expected: str) -> None:
    call = extract_genai(make_span(chat(**{"gen_ai.system_instructions": value})))
    assert call is not None
    assert call.input_messages == (Message(role="system", content=expected),)


def test_keeps_what_parses_when_content_json_is_malformed() -> None:
    span = make_span(
        chat(
            **{
                "gen_ai.system_instructions": '[{"type": "text", "content": "You are',
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "con',
                "gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES[:1]),
            }
        )
    )
    call = extract_genai(span)
    assert call is not None
    assert call.input_messages == ()
    assert call.input_text is None
    assert call.output_text == "A cat."


def test_ignores_wrong_types_in_content_and_metadata() -> None:
    span = make_span(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": ["gpt-4o"],
            "gen_ai.response.finish_reasons": 5,
            "gen_ai.usage.input_tokens": "many",
            "gen_ai.usage.output_tokens": -1,
            "gen_ai.input.messages": [
                42,
                "text",
                {"role": "user", "parts": "nope"},
                {"parts": [7]},
            ],
            "gen_ai.output.messages": {
                "role": "assistant",
                "parts": [{"type": "text", "content": 3}],
            },
            "gen_ai.conversation.id": {"id": 1},
        }
    )
    call = extract_genai(span)
    assert call is not None
    assert call.model_requested is None
    assert call.finish_reasons == ()
    assert call.usage == TokenUsage()
    assert call.input_messages == (Message(role="user"), Message(role="user"))
    assert call.output_messages == (Message(role="assistant"),)
    assert call.session_id is None


# -- metadata attributes ---------------------------------------------------------------------


def test_reads_older_attribute_names() -> None:
    span = make_span(
        {
            "gen_ai.operation.name": "CHAT",
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-3-5-sonnet",
            "gen_ai.response.finish_reasons": "end_turn",
            "gen_ai.usage.prompt_tokens": "100",
            "gen_ai.usage.completion_tokens": 20.0,
            "gen_ai.usage.cache_read_input_tokens": 60,
            "gen_ai.usage.cache_creation_input_tokens": 40,
            "gen_ai.usage.total_tokens": 125,
            "enduser.id": "u-9",
        }
    )
    call = extract_genai(span)
    assert call is not None
    assert call.operation == "chat"
    assert call.provider == "anthropic"
    assert call.finish_reasons == ("end_turn",)
    assert call.usage == TokenUsage(
        input=100, output=20, total=125, cache_read=60, cache_creation=40
    )
    assert call.user_id == "u-9"


def test_prefers_provider_name_over_system_and_user_id_over_enduser_id() -> None:
    attributes = chat(**{"gen_ai.system": "az.ai.inference", "user.id": "u-1", "enduser.id": "u-2"})
    call = extract_genai(make_span(attributes))
    assert call is not None
    assert (call.provider, call.user_id) == ("openai", "u-1")


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("gen_ai.usage.cache_read.input_tokens", "cache_read"),
        ("gen_ai.usage.cache_read_input_tokens", "cache_read"),
        ("gen_ai.usage.cache_creation.input_tokens", "cache_creation"),
        ("gen_ai.usage.cache_write.input_tokens", "cache_creation"),
        ("gen_ai.usage.cache_creation_input_tokens", "cache_creation"),
        ("gen_ai.usage.cache_write_input_tokens", "cache_creation"),
        ("gen_ai.usage.reasoning.output_tokens", "reasoning"),
        ("gen_ai.usage.reasoning_output_tokens", "reasoning"),
        ("llm.usage.total_tokens", "total"),
    ],
)
def test_reads_each_token_count_variant(key: str, field: str) -> None:
    call = extract_genai(make_span(chat(**{key: 17})))
    assert call is not None
    assert getattr(call.usage, field) == 17


@pytest.mark.parametrize(("value", "expected"), [(0.0031, 0.0031), ("0.5", 0.5), ("free", None)])
def test_reads_a_span_reported_cost(value: Any, expected: float | None) -> None:
    call = extract_genai(make_span(chat(**{"gen_ai.usage.cost": value})))
    assert call is not None
    assert call.cost_usd == expected


# -- which spans are LLM calls ---------------------------------------------------------------


@pytest.mark.parametrize(
    "operation", ["embeddings", "execute_tool", "create_agent", "invoke_agent", "retrieval"]
)
def test_returns_none_for_other_operations(operation: str) -> None:
    span = make_span({"gen_ai.operation.name": operation, "gen_ai.request.model": "m"})
    assert extract_genai(span) is None


@pytest.mark.parametrize("operation", ["chat", "Text_Completion", "generate_content"])
def test_accepts_inference_operations_in_any_case(operation: str) -> None:
    call = extract_genai(make_span({"gen_ai.operation.name": operation}))
    assert call is not None
    assert call.operation == operation.lower()


@pytest.mark.parametrize(
    ("attributes", "is_llm_call"),
    [
        ({"http.method": "GET"}, False),
        ({"gen_ai.system": "openai"}, False),
        ({"gen_ai.request.model": "gpt-4o"}, True),
        ({"gen_ai.system": "openai", "gen_ai.usage.input_tokens": 3}, True),
        ({"gen_ai.provider.name": "openai", "gen_ai.output.messages": OUTPUT_MESSAGES}, True),
        ({"gen_ai.system": "openai", "gen_ai.prompt.0.content": "hi"}, True),
        ({"gen_ai.operation.name": 7, "gen_ai.request.model": "gpt-4o"}, True),
        ({"llm.request.type": "embedding", "gen_ai.request.model": "ada"}, False),
    ],
)
def test_without_an_operation_needs_a_model_or_provider_with_usage_or_messages(
    attributes: dict[str, Any], is_llm_call: bool
) -> None:
    call = extract_genai(make_span(attributes))
    assert (call is not None) == is_llm_call
    if call is not None:
        assert call.operation is None


# -- the older event forms -----------------------------------------------------------------

V1_30_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.response.id": "chatcmpl-abc123",
    "gen_ai.response.finish_reasons": ["tool_calls"],
    "gen_ai.usage.input_tokens": 31,
    "gen_ai.usage.output_tokens": 12,
}
OPENAI_TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def legacy_openai_logs() -> list[LogEvent]:
    """The log records openai-v2's legacy path writes (utils.message_to_event, choice_to_event)."""
    system = {"gen_ai.system": "openai"}
    return [
        log_event("gen_ai.system.message", {"content": "You are terse."}, system),
        log_event("gen_ai.user.message", {"content": "Weather in Paris?"}, system),
        log_event("gen_ai.assistant.message", {"tool_calls": [OPENAI_TOOL_CALL]}, system),
        log_event("gen_ai.tool.message", {"content": "18C", "id": "call_1"}, system),
        log_event("gen_ai.user.message", {"content": "Thanks. And Rome?"}, system),
        log_event(
            "gen_ai.choice",
            {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": "B"}},
            system,
        ),
        log_event(
            "gen_ai.choice",
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "tool_calls": [OPENAI_TOOL_CALL]},
            },
            system,
        ),
    ]


def test_reads_the_legacy_per_message_log_events() -> None:
    call = extract_genai(make_span(V1_30_ATTRIBUTES), legacy_openai_logs())
    assert call is not None
    assert call.provider == "openai"
    assert call.input_messages == (
        Message(role="system", content="You are terse."),
        Message(role="user", content="Weather in Paris?"),
        Message(role="assistant", tool_calls=(WEATHER,)),
        Message(role="tool", content="18C", tool_call_id="call_1"),
        Message(role="user", content="Thanks. And Rome?"),
    )
    assert call.input_text == "Thanks. And Rome?"
    assert call.output_messages == (  # ordered by choice index
        Message(role="assistant", tool_calls=(WEATHER,), finish_reason="tool_calls"),
        Message(role="assistant", content="B", finish_reason="stop"),
    )
    assert call.output_text is None
    assert call.tool_calls == (WEATHER,)
    assert call.finish_reasons == ("tool_calls",)


def test_legacy_events_sent_without_content_give_no_messages() -> None:
    """openai-v2's legacy path with capture off (its default) still sends every event: no
    body for the prompt's messages, the role, index and finish reason for the choice."""
    system = {"gen_ai.system": "openai"}
    logs = [
        log_event("gen_ai.system.message", None, system),
        log_event("gen_ai.user.message", None, system),
        log_event(
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}},
            system,
        ),
    ]
    call = extract_genai(make_span(V1_30_ATTRIBUTES), logs)
    assert call is not None
    assert (call.input_messages, call.output_messages, call.output_text) == ((), (), None)
    # with content captured, a choice without content is an answer with no text
    logs[1] = log_event("gen_ai.user.message", {"content": "Hi?"}, system)
    captured = extract_genai(make_span(V1_30_ATTRIBUTES), logs)
    assert captured is not None
    assert captured.output_messages == (Message("assistant", None, finish_reason="stop"),)


def test_reads_log_events_named_by_the_event_name_attribute() -> None:
    logs = [log_event("", {"content": "Hi"}, {"event.name": "gen_ai.user.message"})]
    call = extract_genai(make_span(V1_30_ATTRIBUTES), logs)
    assert call is not None
    assert call.input_messages == (Message(role="user", content="Hi"),)


def test_reads_span_events_with_a_json_event_content() -> None:
    """The shape Azure AI Inference tracing writes."""
    events = [
        span_event(
            "gen_ai.system.message",
            {
                "gen_ai.system": "az.ai.inference",
                "gen_ai.event.content": '{"role": "system", "content": "Be brief."}',
            },
        ),
        span_event("gen_ai.user.message", {"gen_ai.event.content": '{"content": "Hi"}'}),
        span_event(
            "gen_ai.choice",
            {
                "gen_ai.event.content": json.dumps(
                    {"finish_reason": "stop", "index": 0, "message": {"content": "Hello!"}}
                )
            },
        ),
        span_event("gen_ai.user.message", {"gen_ai.event.content": '{"content": "broken'}),
    ]
    call = extract_genai(make_span(V1_30_ATTRIBUTES, events))
    assert call is not None
    assert call.input_messages == (
        Message(role="system", content="Be brief."),
        Message(role="user", content="Hi"),
        Message(role="user"),
    )
    assert call.output_messages == (
        Message(role="assistant", content="Hello!", finish_reason="stop"),
    )


def test_reads_span_events_with_plain_attributes() -> None:
    events = [
        span_event("gen_ai.user.message", {"content": "Hi", "role": "user"}),
        span_event("gen_ai.tool.message", {"content": "18C", "id": "call_1"}),
        span_event("gen_ai.choice", {"finish_reason": "stop", "message": '{"content": "Yo"}'}),
    ]
    call = extract_genai(make_span(V1_30_ATTRIBUTES, events))
    assert call is not None
    assert call.input_messages == (
        Message(role="user", content="Hi"),
        Message(role="tool", content="18C", tool_call_id="call_1"),
    )
    assert call.output_text == "Yo"


def test_reads_the_details_event_as_a_span_event() -> None:
    details = span_event(
        "gen_ai.client.inference.operation.details",
        {"gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "Q"}]}]},
    )
    call = extract_genai(make_span(chat(), [details]))
    assert call is not None
    assert call.input_text == "Q"


def test_reads_the_details_event_from_a_log_body() -> None:
    body = {"gen_ai.output.messages": json.dumps(OUTPUT_MESSAGES)}
    call = extract_genai(
        make_span(chat()), [log_event("gen_ai.client.inference.operation.details", body)]
    )
    assert call is not None
    assert call.output_text == "A cat."


# -- the OpenLLMetry attribute form --------------------------------------------------------


def test_reads_indexed_prompt_and_completion_attributes_in_numeric_order() -> None:
    attributes: dict[str, Any] = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.prompt_tokens": 50,
        "gen_ai.usage.completion_tokens": 9,
        "llm.usage.total_tokens": 59,
    }
    for index in range(11):
        attributes[f"gen_ai.prompt.{index}.role"] = "user"
        attributes[f"gen_ai.prompt.{index}.content"] = f"message {index}"
    attributes["gen_ai.prompt.0.role"] = "system"
    attributes["gen_ai.prompt.3.content"] = '[{"type": "text", "text": "multimodal"}]'
    attributes["gen_ai.prompt.4.role"] = "tool"
    attributes["gen_ai.prompt.4.tool_call_id"] = "call_0"
    attributes.update(
        {
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.id": "call_1",
            "gen_ai.completion.0.tool_calls.0.name": "get_weather",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
        }
    )
    call = extract_genai(make_span(attributes))
    assert call is not None
    assert call.operation == "chat"
    assert [m.content for m in call.input_messages][8:] == ["message 8", "message 9", "message 10"]
    assert call.input_messages[0] == Message(role="system", content="message 0")
    assert call.input_messages[3].content == "multimodal"
    assert call.input_messages[4] == Message(
        role="tool", content="message 4", tool_call_id="call_0"
    )
    assert call.input_text == "message 10"
    assert call.output_messages == (
        Message(role="assistant", tool_calls=(WEATHER,), finish_reason="tool_calls"),
    )
    assert call.tool_calls == (WEATHER,)
    assert call.finish_reasons == ("tool_calls",)
    assert call.usage == TokenUsage(input=50, output=9, total=59)


def test_joins_the_prompt_of_a_text_completion() -> None:
    attributes = {
        "llm.request.type": "completion",
        "gen_ai.prompt.0.content": "Once upon",
        "gen_ai.prompt.1.content": "a time",
        "gen_ai.completion.0.content": " there was",
    }
    call = extract_genai(make_span(attributes))
    assert call is not None
    assert call.operation == "text_completion"
    assert (call.input_text, call.output_text) == ("Once upon\na time", " there was")


def test_reads_whole_prompt_values_on_the_span_and_on_v1_26_content_events() -> None:
    events = [
        span_event(
            "gen_ai.content.prompt", {"gen_ai.prompt": '[{"role": "user", "content": "Q?"}]'}
        ),
        span_event("gen_ai.content.completion", {"gen_ai.completion": "A."}),
    ]
    call = extract_genai(make_span({"gen_ai.request.model": "gpt-4"}, events))
    assert call is not None
    assert call.input_messages == (Message(role="user", content="Q?"),)
    assert call.output_messages == (Message(role="assistant", content="A."),)


# -- precedence ----------------------------------------------------------------------------


def test_prefers_span_attributes_then_details_event_then_message_events_then_indexed() -> None:
    def said(text: str) -> list[dict[str, Any]]:
        return [{"role": "user", "parts": [{"type": "text", "content": text}]}]

    indexed = {"gen_ai.prompt.0.content": "indexed", "gen_ai.completion.0.content": "indexed"}
    message_logs = [log_event("gen_ai.user.message", {"content": "event"})]
    details = [
        log_event(
            "gen_ai.client.inference.operation.details",
            attributes={"gen_ai.input.messages": said("details")},
        )
    ]
    on_span = {"gen_ai.input.messages": said("span")}

    def input_text(attributes: dict[str, Any], logs: list[LogEvent]) -> str | None:
        call = extract_genai(make_span(chat(**attributes)), logs)
        assert call is not None
        return call.input_text

    assert input_text({**indexed, **on_span}, details + message_logs) == "span"
    assert input_text(indexed, details + message_logs) == "details"
    assert input_text(indexed, message_logs) == "event"
    assert input_text(indexed, []) == "indexed"


def test_takes_inputs_and_outputs_each_from_the_first_source_that_has_them() -> None:
    span = make_span(chat(**{"gen_ai.input.messages": json.dumps(INPUT_MESSAGES[:1])}))
    logs = [log_event("gen_ai.choice", {"index": 0, "message": {"content": "from the event"}})]
    call = extract_genai(span, logs)
    assert call is not None
    assert (call.input_text, call.output_text) == ("Hi\nthere", "from the event")


# -- robustness ----------------------------------------------------------------------------

KEYS = [
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.cost",
    "gen_ai.conversation.id",
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.prompt",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.1.role",
    "gen_ai.completion.0.tool_calls.0.name",
    "gen_ai.event.content",
    "content",
    "message",
    "tool_calls",
    "index",
    "event.name",
]
EVENT_NAMES = [
    "gen_ai.user.message",
    "gen_ai.tool.message",
    "gen_ai.choice",
    "gen_ai.client.inference.operation.details",
    "gen_ai.content.prompt",
    "other",
]
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.sampled_from(["user", "text", "tool_call", "tool_call_response", "[", '{"a":'])
)
structures = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from([*KEYS, "role", "parts", "type", "name"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
values = structures | structures.map(lambda value: json.dumps(value, default=str))
attribute_dicts = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    attributes=attribute_dicts,
    events=st.lists(st.tuples(st.sampled_from(EVENT_NAMES), attribute_dicts), max_size=3),
    logs=st.lists(st.tuples(st.sampled_from(EVENT_NAMES), attribute_dicts, values), max_size=3),
)
def test_never_raises_on_arbitrary_attributes(
    attributes: dict[str, Any],
    events: list[tuple[str, dict[str, Any]]],
    logs: list[tuple[str, dict[str, Any], Any]],
) -> None:
    span = make_span(attributes, [span_event(name, attrs) for name, attrs in events])
    call = extract_genai(span, [log_event(name, body, attrs) for name, attrs, body in logs])
    if call is not None:
        assert all(isinstance(m, Message) for m in call.input_messages + call.output_messages)
        assert call.input_text is None or isinstance(call.input_text, str)
