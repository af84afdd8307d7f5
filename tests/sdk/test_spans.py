import json
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from liveeval.sdk import llm_call, retrieval


class Recorder:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(shutdown_on_exit=False)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def only(self) -> ReadableSpan:
        (span,) = self.spans()
        return span


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.provider.shutdown()


def test_llm_call_records_a_genai_client_span(recorder: Recorder) -> None:
    with llm_call(
        "gpt-4o-mini",
        provider="openai",
        prompt_version="v2",
        route="support",
        segment="pro",
        user_id="u-1",
        session_id="s-1",
        input_messages=[{"role": "user", "content": "Where is my order?"}],
        system_instructions="Be brief.",
        attributes={"gen_ai.request.temperature": 0.2},
        tracer_provider=recorder.provider,
    ) as call:
        call.set_output(
            "It ships tomorrow.",
            response_id="chatcmpl-1",
            response_model="gpt-4o-mini-2024-07-18",
            finish_reason="stop",
            input_tokens=12,
            output_tokens=5,
            cache_read_tokens=4,
            cost_usd=0.0001,
        )
    span = recorder.only()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert json.loads(str(attributes.pop("gen_ai.input.messages"))) == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}
    ]
    assert json.loads(str(attributes.pop("gen_ai.output.messages"))) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It ships tomorrow."}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(str(attributes.pop("gen_ai.system_instructions"))) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.conversation.id": "s-1",
        "user.id": "u-1",
        "liveeval.prompt.version": "v2",
        "liveeval.route": "support",
        "liveeval.segment": "pro",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "liveeval.cost.usd": 0.0001,
    }
    assert span.status.status_code is StatusCode.UNSET


def test_the_call_exposes_its_trace_and_span_ids(recorder: Recorder) -> None:
    with llm_call("m", tracer_provider=recorder.provider) as call:
        pass
    context = recorder.only().get_span_context()
    assert context is not None
    assert call.trace_id == f"{context.trace_id:032x}"
    assert call.span_id == f"{context.span_id:016x}"


def test_an_exception_in_the_block_marks_the_span_and_propagates(recorder: Recorder) -> None:
    with (
        pytest.raises(TimeoutError, match="model took too long"),
        llm_call("m", provider="openai", tracer_provider=recorder.provider),
    ):
        raise TimeoutError("model took too long")
    span = recorder.only()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "TimeoutError: model took too long"
    assert (span.attributes or {})["error.type"] == "TimeoutError"
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.message"] == "model took too long"


def test_values_that_cannot_be_recorded_are_left_out_without_raising(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with llm_call("m", input_messages=[object()], tracer_provider=recorder.provider) as call:
        call.set_output("ok", input_tokens="many", output_tokens=3, cost_usd="free")  # type: ignore[arg-type]
    attributes = recorder.only().attributes or {}
    assert "gen_ai.usage.input_tokens" not in attributes
    assert "liveeval.cost.usd" not in attributes
    assert attributes["gen_ai.usage.output_tokens"] == 3
    assert "gen_ai.usage.input_tokens" in caplog.text


def test_without_set_output_the_span_has_no_output(recorder: Recorder) -> None:
    with llm_call("m", operation="text_completion", tracer_provider=recorder.provider):
        pass
    span = recorder.only()
    assert span.name == "text_completion m"
    assert "gen_ai.output.messages" not in (span.attributes or {})


def test_retrieval_records_an_openinference_retriever_span(recorder: Recorder) -> None:
    with retrieval("refund policy", tracer_provider=recorder.provider) as found:
        found.set_documents(
            [
                {"id": "kb-1", "content": "Refunds within 30 days.", "score": 0.91},
                {"content": "Contact support.", "metadata": {"source": "faq"}},
                "Plain text document",
            ]
        )
    span = recorder.only()
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes or {}) == {
        "openinference.span.kind": "RETRIEVER",
        "input.value": "refund policy",
        "retrieval.documents.0.document.id": "kb-1",
        "retrieval.documents.0.document.content": "Refunds within 30 days.",
        "retrieval.documents.0.document.score": 0.91,
        "retrieval.documents.1.document.content": "Contact support.",
        "retrieval.documents.1.document.metadata": '{"source":"faq"}',
        "retrieval.documents.2.document.content": "Plain text document",
    }


def test_retrieval_and_llm_call_in_one_request_share_a_trace(recorder: Recorder) -> None:
    tracer = recorder.provider.get_tracer("app")
    with tracer.start_as_current_span("handle request"):
        with retrieval("q", [{"content": "doc"}], tracer_provider=recorder.provider):
            pass
        with llm_call("m", tracer_provider=recorder.provider):
            pass
    retriever, call, parent = recorder.spans()
    assert retriever.context.trace_id == call.context.trace_id == parent.context.trace_id
    assert call.parent is not None and call.parent.span_id == parent.context.span_id
