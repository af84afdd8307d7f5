import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from liveeval.ingest.openinference import extract_openinference, retrieval_documents
from liveeval.model import Message, RetrievedDocument, Span, TokenUsage, ToolCall
from tests.ingest.spans import make_span

WEATHER = ToolCall(name="get_weather", arguments='{"city": "Paris"}', id="call_1")


def llm(**attributes: Any) -> dict[str, Any]:
    return {"openinference.span.kind": "LLM", **attributes}


# -- what the real instrumentation writes --------------------------------------------------

CHAT_RESPONSE = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
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
COMPLETION_RESPONSE = {
    "id": "cmpl-xyz",
    "object": "text_completion",
    "created": 1700000000,
    "model": "gpt-3.5-turbo-instruct",
    "choices": [{"index": 0, "text": " a time", "finish_reason": "length", "logprobs": None}],
    "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
}
EMBEDDING_RESPONSE = {
    "object": "list",
    "model": "text-embedding-3-small",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}


def plain(value: Any) -> Any:
    """SDK attribute values as our OTLP decoder gives them: tuples become lists."""
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value


def answer(request: httpx.Request) -> httpx.Response:
    """The OpenAI API, at the transport boundary."""
    path = request.url.path
    if path.endswith("/chat/completions"):
        return httpx.Response(200, json=CHAT_RESPONSE)
    if path.endswith("/completions"):
        return httpx.Response(200, json=COMPLETION_RESPONSE)
    return httpx.Response(200, json=EMBEDDING_RESPONSE)


@pytest.fixture
def traced() -> Iterator[Callable[[Callable[[openai.OpenAI], object]], Span]]:
    """Call the OpenAI client under openinference-instrumentation-openai; return our Span."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://llm.example.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )

    def run(call: Callable[[openai.OpenAI], object]) -> Span:
        exporter.clear()
        call(client)
        (readable,) = exporter.get_finished_spans()
        attributes = {key: plain(value) for key, value in (readable.attributes or {}).items()}
        return make_span(attributes)

    try:
        yield run
    finally:
        instrumentor.uninstrument()
        client.close()


def test_reads_what_the_openinference_instrumentation_writes_for_a_chat(traced: Any) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    span = traced(
        lambda client: client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, temperature=0.2
        )
    )
    assert span.attributes["input.mime_type"] == "application/json"
    call = extract_openinference(span)
    assert call is not None
    assert call.convention == "openinference"
    assert call.operation == "chat"
    assert call.provider == "openai"
    assert (call.model_requested, call.model_served) == ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    assert call.response_id == "chatcmpl-abc123"
    assert call.finish_reasons == ("tool_calls",)
    assert call.input_messages == (
        Message(role="system", content="You are terse."),
        Message(role="user", content="Weather in Paris?"),
    )
    assert call.input_text == "Weather in Paris?"  # not the raw request JSON
    assert call.output_messages == (
        Message(role="assistant", content="Let me check.", tool_calls=(WEATHER,)),
    )
    assert call.output_text == "Let me check."
    assert call.tool_calls == (WEATHER,)
    assert call.usage == TokenUsage(input=31, output=12, total=43, cache_read=8, reasoning=5)
    assert call.cost_usd is None


def test_reads_what_the_openinference_instrumentation_writes_for_a_completion(
    traced: Any,
) -> None:
    span = traced(
        lambda client: client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Once upon", max_tokens=3
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.operation == "text_completion"
    assert call.input_messages == (Message(role="user", content="Once upon"),)
    assert (call.input_text, call.output_text) == ("Once upon", " a time")
    assert call.finish_reasons == ("length",)
    assert call.response_id == "cmpl-xyz"
    assert call.usage == TokenUsage(input=2, output=3, total=5)


def test_ignores_what_the_openinference_instrumentation_writes_for_embeddings(
    traced: Any,
) -> None:
    span = traced(
        lambda client: client.embeddings.create(model="text-embedding-3-small", input="hi")
    )
    assert span.attributes["openinference.span.kind"] == "EMBEDDING"
    assert extract_openinference(span) is None


# -- attributes ----------------------------------------------------------------------------


def test_content_the_instrumentation_was_told_to_hide_is_not_read_as_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OPENINFERENCE_HIDE_INPUTS/OUTPUTS write "__REDACTED__" where the content was: that is
    no question and no answer, and the call reads as one without content."""
    monkeypatch.setenv("OPENINFERENCE_HIDE_INPUTS", "true")
    monkeypatch.setenv("OPENINFERENCE_HIDE_OUTPUTS", "true")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with httpx.Client(transport=httpx.MockTransport(answer)) as http:
            client = openai.OpenAI(
                api_key="sk-test", base_url="https://x.test/v1", http_client=http
            )
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}]
            )
    finally:
        instrumentor.uninstrument()
    (readable,) = exporter.get_finished_spans()
    attributes = {key: plain(value) for key, value in (readable.attributes or {}).items()}
    assert attributes["output.value"] == "__REDACTED__"
    call = extract_openinference(make_span(attributes))
    assert call is not None
    assert (call.input_text, call.input_messages) == (None, ())
    assert (call.output_text, call.output_messages) == (None, ())
    assert call.usage.input == 31


def test_messages_whose_text_was_hidden_are_left_out_unless_they_call_a_tool() -> None:
    call = extract_openinference(
        make_span(
            llm(
                **{
                    "llm.input_messages.0.message.role": "user",
                    "llm.input_messages.0.message.content": "__REDACTED__",
                    "llm.output_messages.0.message.role": "assistant",
                    "llm.output_messages.0.message.contents.0.message_content.type": "text",
                    "llm.output_messages.0.message.contents.0.message_content.text": "__REDACTED__",
                    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "f",
                }
            )
        )
    )
    assert call is not None
    assert call.input_messages == () and call.input_text is None
    assert call.output_messages == (Message("assistant", None, (ToolCall("f"),)),)


def test_reads_every_llm_attribute() -> None:
    span = make_span(
        llm(
            **{
                "llm.provider": "azure",
                "llm.system": "openai",
                "llm.model_name": "gpt-4o-2024-08-06",
                "llm.invocation_parameters": '{"model": "gpt-4o", "temperature": 0}',
                "llm.token_count.prompt": 100,
                "llm.token_count.completion": 20,
                "llm.token_count.total": 120,
                "llm.token_count.prompt_details.cache_read": 64,
                "llm.token_count.prompt_details.cache_write": 16,
                "llm.token_count.completion_details.reasoning": 4,
                "llm.cost.total": 0.00123,
                "llm.prompt_template.version": "v7",
                "session.id": "s-1",
                "user.id": "u-1",
                "metadata": '{"tenant": "acme", "tier": 2}',
                "tag.tags": ["beta", "eu"],
                "llm.finish_reason": "stop",
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.operation is None  # neither messages nor prompts were recorded
    assert call.provider == "azure"
    assert (call.model_requested, call.model_served) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert call.usage == TokenUsage(
        input=100, output=20, total=120, cache_read=64, cache_creation=16, reasoning=4
    )
    assert call.cost_usd == 0.00123
    assert call.prompt_version == "v7"
    assert (call.session_id, call.user_id) == ("s-1", "u-1")
    assert call.metadata == {"tenant": "acme", "tier": 2}
    assert call.tags == ("beta", "eu")
    assert call.finish_reasons == ("stop",)


def test_prefers_explicit_request_and_response_model_names() -> None:
    span = make_span(
        llm(
            **{
                "llm.model_name": "m",
                "llm.request.model_name": "requested",
                "llm.response.model_name": "served",
                "llm.invocation_parameters": '{"model": "from-params"}',
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert (call.model_requested, call.model_served) == ("requested", "served")


def test_falls_back_to_llm_system_and_to_the_model_name_for_both_models() -> None:
    call = extract_openinference(
        make_span(llm(**{"llm.system": "anthropic", "llm.model_name": "c"}))
    )
    assert call is not None
    assert (call.provider, call.model_requested, call.model_served) == ("anthropic", "c", "c")
    assert call.usage == TokenUsage()


def test_reads_cached_input_tokens_recorded_as_cache_input() -> None:
    call = extract_openinference(
        make_span(llm(**{"llm.token_count.prompt_details.cache_input": 9}))
    )
    assert call is not None
    assert call.usage.cache_read == 9


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1}, {"a": 1}),
        ("[1, 2]", {"value": "[1, 2]"}),
        ("{not json", {"value": "{not json"}),
        (7, {"value": 7}),
        (None, {}),
    ],
)
def test_reads_metadata_as_a_dict(value: Any, expected: dict[str, Any]) -> None:
    call = extract_openinference(make_span(llm(metadata=value)))
    assert call is not None
    assert call.metadata == expected


def test_ignores_wrong_types() -> None:
    span = make_span(
        llm(
            **{
                "llm.model_name": ["gpt"],
                "llm.invocation_parameters": "{broken",
                "llm.token_count.prompt": "lots",
                "llm.token_count.completion": True,
                "llm.cost.total": "free",
                "tag.tags": 3,
                "session.id": {"id": 1},
                "llm.input_messages.0.message.role": 5,
                "llm.input_messages.0.message.content": ["not", "a", "string"],
                "llm.input_messages.1.message.contents.0.message_content.text": 9,
                "llm.output_messages.0.message.tool_calls.0.tool_call.id": "no name",
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert (call.model_requested, call.model_served) == (None, None)
    assert call.usage == TokenUsage()
    assert (call.cost_usd, call.tags, call.session_id) == (None, (), None)
    assert call.input_messages == (
        Message(role="user", content="not\na\nstring"),
        Message(role="user"),
    )
    assert call.output_messages == (Message(role="assistant"),)


# -- which spans are LLM calls ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["LLM", "llm", "Llm"])
def test_accepts_the_llm_kind_in_any_case(kind: str) -> None:
    assert extract_openinference(make_span({"openinference.span.kind": kind})) is not None


@pytest.mark.parametrize("kind", ["CHAIN", "RETRIEVER", "EMBEDDING", "TOOL", "AGENT", 3, None])
def test_returns_none_for_other_kinds(kind: Any) -> None:
    span = make_span({"openinference.span.kind": kind, "llm.model_name": "gpt-4o"})
    assert extract_openinference(span) is None
    assert extract_openinference(make_span({"llm.model_name": "gpt-4o"})) is None


# -- messages ------------------------------------------------------------------------------


def test_orders_messages_and_tool_calls_numerically() -> None:
    attributes = llm()
    for index in range(11):
        attributes[f"llm.input_messages.{index}.message.role"] = "user"
        attributes[f"llm.input_messages.{index}.message.content"] = f"m{index}"
    prefix = "llm.output_messages.0.message.tool_calls"
    for index in range(11):
        attributes[f"{prefix}.{index}.tool_call.id"] = f"call_{index}"
        attributes[f"{prefix}.{index}.tool_call.function.name"] = f"tool_{index}"
    call = extract_openinference(make_span(attributes))
    assert call is not None
    assert [m.content for m in call.input_messages] == [f"m{i}" for i in range(11)]
    assert call.input_text == "m10"
    assert [c.name for c in call.tool_calls] == [f"tool_{i}" for i in range(11)]


def test_reads_message_contents_names_tool_call_ids_and_argument_shapes() -> None:
    first, second = "llm.input_messages.0.message", "llm.input_messages.1.message"
    out = "llm.output_messages.0.message"
    span = make_span(
        llm(
            **{
                f"{first}.role": "user",
                f"{first}.name": "ann",
                f"{first}.contents.0.message_content.type": "text",
                f"{first}.contents.0.message_content.text": "What is",
                f"{first}.contents.1.message_content.type": "image",
                f"{first}.contents.1.message_content.image.image.url": "https://x/cat.png",
                f"{first}.contents.2.message_content.text": "this?",
                f"{second}.role": "tool",
                f"{second}.content": "18C",
                f"{second}.tool_call_id": "call_0",
                f"{out}.role": "assistant",
                f"{out}.tool_calls.0.tool_call.id": "call_1",
                f"{out}.tool_calls.0.tool_call.function.name": "get_weather",
                f"{out}.tool_calls.0.tool_call.function.arguments": {"city": "Paris"},
                f"{out}.function_call_name": "legacy",
                f"{out}.function_call_arguments_json": '{"x": 1}',
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.input_messages == (
        Message(role="user", content="What is\nthis?", name="ann"),
        Message(role="tool", content="18C", tool_call_id="call_0"),
    )
    assert call.input_text == "What is\nthis?"
    assert call.tool_calls == (
        ToolCall(name="get_weather", arguments='{"city": "Paris"}', id="call_1"),
        ToolCall(name="legacy", arguments='{"x": 1}'),
    )
    assert call.output_text is None


def test_reads_messages_from_a_json_request_and_response_when_not_flattened() -> None:
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    span = make_span(
        llm(
            **{
                "input.value": json.dumps(request),
                "input.mime_type": "application/json",
                "output.value": json.dumps(CHAT_RESPONSE),
                "output.mime_type": "application/json; charset=utf-8",
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.operation == "chat"
    assert call.input_messages == (Message(role="user", content="Hi"),)
    assert call.input_text == "Hi"
    assert call.output_text == "Let me check."
    assert call.tool_calls == (WEATHER,)
    assert call.finish_reasons == ("tool_calls",)
    assert call.response_id == "chatcmpl-abc123"


def test_reads_a_responses_api_request_input() -> None:
    request = {"model": "gpt-4.1", "input": "Tell me a joke"}
    span = make_span(
        llm(**{"input.value": json.dumps(request), "input.mime_type": "application/json"})
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.input_text == "Tell me a joke"


def test_uses_plain_input_and_output_values_when_there_are_no_messages() -> None:
    span = make_span(
        llm(
            **{
                "input.value": "What is 2 + 2?",
                "input.mime_type": "text/plain",
                "output.value": '{"id": "not-a-json-response"}',
                "output.mime_type": "text/plain",
            }
        )
    )
    call = extract_openinference(span)
    assert call is not None
    assert (call.input_text, call.output_text) == (
        "What is 2 + 2?",
        '{"id": "not-a-json-response"}',
    )
    assert call.response_id is None  # only read from a JSON body


def test_uses_the_raw_json_only_when_nothing_better_is_there() -> None:
    span = make_span(
        llm(**{"input.value": '{"query": "x"}', "input.mime_type": "application/json"})
    )
    call = extract_openinference(span)
    assert call is not None
    assert call.input_text == '{"query": "x"}'


def test_reads_older_plain_prompt_lists() -> None:
    call = extract_openinference(make_span(llm(**{"llm.prompts": ["A", "B"]})))
    assert call is not None
    assert call.operation == "text_completion"
    assert call.input_text == "A\nB"


# -- retrieval documents -------------------------------------------------------------------


def test_reads_retrieved_documents_in_numeric_order() -> None:
    attributes: dict[str, Any] = {"openinference.span.kind": "RETRIEVER"}
    for index in range(11):
        attributes[f"retrieval.documents.{index}.document.content"] = f"doc {index}"
    attributes.update(
        {
            "retrieval.documents.0.document.id": "kb-1",
            "retrieval.documents.0.document.score": 0.87,
            "retrieval.documents.0.document.metadata": '{"source": "faq.md", "page": 3}',
            "retrieval.documents.1.document.id": 42,
            "retrieval.documents.1.document.score": "-1.5",
            "retrieval.documents.1.document.metadata": {"source": "kv"},
            "retrieval.documents.2.document.metadata": "{broken",
            "retrieval.documents.11.document.score": "n/a",
        }
    )
    documents = retrieval_documents(make_span(attributes))
    assert [d.content for d in documents] == [f"doc {i}" for i in range(11)]
    assert documents[0] == RetrievedDocument(
        content="doc 0", id="kb-1", score=0.87, metadata={"source": "faq.md", "page": 3}
    )
    assert documents[1] == RetrievedDocument(
        content="doc 1", id="42", score=-1.5, metadata={"source": "kv"}
    )
    assert documents[2].metadata == {"value": "{broken"}
    assert documents[10] == RetrievedDocument(content="doc 10")


@pytest.mark.parametrize("kind", ["retriever", "Retriever"])
def test_reads_retrievers_in_any_case(kind: str) -> None:
    span = make_span({"openinference.span.kind": kind, "retrieval.documents.0.document.id": "d"})
    assert retrieval_documents(span) == (RetrievedDocument(content=None, id="d"),)


def test_returns_no_documents_for_other_spans() -> None:
    attributes = {"retrieval.documents.0.document.content": "doc"}
    assert retrieval_documents(make_span(llm(**attributes))) == ()
    assert retrieval_documents(make_span(attributes)) == ()


# -- robustness ----------------------------------------------------------------------------

KEYS = [
    "openinference.span.kind",
    "llm.model_name",
    "llm.invocation_parameters",
    "llm.provider",
    "input.value",
    "input.mime_type",
    "output.value",
    "output.mime_type",
    "metadata",
    "tag.tags",
    "llm.finish_reason",
    "llm.prompts",
    "llm.token_count.prompt",
    "llm.cost.total",
    "llm.input_messages.0.message.content",
    "llm.input_messages.1.message.contents.0.message_content.text",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
    "retrieval.documents.0.document.metadata",
    "retrieval.documents.1.document.score",
]
kinds = st.sampled_from(["LLM", "RETRIEVER", "llm"])
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["application/json", "[", '{"model": 1}', '{"messages": [1]}'])
)
structures = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["messages", "choices", "id", "input", "prompt"]), inner)
    ),
    max_leaves=8,
)
values = structures | structures.map(lambda value: json.dumps(value, default=str))


@settings(max_examples=200, deadline=None)
@given(
    kind=kinds,
    attributes=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=6),
)
def test_never_raises_on_arbitrary_attributes(kind: str, attributes: dict[str, Any]) -> None:
    span = make_span({**attributes, "openinference.span.kind": kind})
    call = extract_openinference(span)
    documents = retrieval_documents(span)
    assert (call is not None) == (kind.upper() == "LLM")
    assert all(isinstance(document, RetrievedDocument) for document in documents)
