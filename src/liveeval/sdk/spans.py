"""Record an LLM call or a retrieval by hand, for apps no auto-instrumentation covers.

`llm_call()` makes a CLIENT span in the OpenTelemetry GenAI semantic conventions (plus
liveeval's own ``liveeval.*`` attributes); `retrieval()` makes an OpenInference RETRIEVER
span, which liveeval reads as the retrieved context of the LLM calls after it in the same
trace. Recording never raises into the app: a value that cannot be recorded is logged
and left out. An exception raised inside the block marks the span as an error and
propagates unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from liveeval.sdk import messages
from liveeval.sdk.messages import MessagesLike
from liveeval.sdk.tracing import get_tracer, is_noop

log = logging.getLogger(__name__)

Attributes = dict[str, AttributeValue]
_S = TypeVar("_S", bound="RecordedSpan")


class RecordedSpan:
    """A span being recorded, with the ids an app needs to send feedback about it later."""

    def __init__(self, span: Span) -> None:
        self.span = span

    @property
    def trace_id(self) -> str:
        """32 hex digits; all zeros when tracing is not set up (nothing is recorded)."""
        return trace.format_trace_id(self.span.get_span_context().trace_id)

    @property
    def span_id(self) -> str:
        return trace.format_span_id(self.span.get_span_context().span_id)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)


class LLMSpan(RecordedSpan):
    """The LLM call `llm_call()` records."""

    def set_output(
        self,
        output: MessagesLike | None = None,
        *,
        response_id: str | None = None,
        response_model: str | None = None,
        finish_reason: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_creation_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cost_usd: float | None = None,
    ) -> None:
        """What the model answered: text, one message or several (OpenAI-style dicts, the
        openai client's message objects, or the parts schema), and the response's metadata.
        Output messages carry `finish_reason`, "stop" when none is given."""

        if not self.span.is_recording():
            return

        def build() -> Attributes:
            attributes: Attributes = {}
            if output is not None:
                converted = messages.output_json(output, finish_reason or "stop")
                attributes["gen_ai.output.messages"] = converted
            if finish_reason is not None:
                attributes["gen_ai.response.finish_reasons"] = [str(finish_reason)]
            _put(attributes, "gen_ai.response.id", response_id)
            _put(attributes, "gen_ai.response.model", response_model)
            _put(attributes, "gen_ai.usage.input_tokens", input_tokens, int)
            _put(attributes, "gen_ai.usage.output_tokens", output_tokens, int)
            _put(attributes, "gen_ai.usage.cache_read.input_tokens", cache_read_tokens, int)
            _put(attributes, "gen_ai.usage.cache_creation.input_tokens", cache_creation_tokens, int)
            _put(attributes, "gen_ai.usage.reasoning.output_tokens", reasoning_tokens, int)
            _put(attributes, "liveeval.cost.usd", cost_usd, float)
            return attributes

        self.span.set_attributes(_safely("the output", build))


class RetrieverSpan(RecordedSpan):
    """The retrieval `retrieval()` records."""

    def set_documents(self, documents: Sequence[Mapping[str, Any] | str]) -> None:
        """The documents retrieved, best first: dicts with ``content`` and optionally
        ``id``, ``score`` and ``metadata``, or plain strings. Call it once per span."""
        if self.span.is_recording():
            self.span.set_attributes(_safely("the documents", lambda: _documents(documents)))


class _Scope(AbstractContextManager[_S]):
    """Starts the span as the current one on entry; on exit records an exception escaping
    the block as the span's error, then ends it. A class, not generator-based context
    managers stacked four deep: entering and leaving is most of an SDK span's cost."""

    __slots__ = ("_attributes", "_kind", "_make", "_name", "_recorded", "_token", "_tracer")

    def __init__(
        self,
        tracer: trace.Tracer,
        name: str,
        kind: SpanKind,
        attributes: Attributes,
        make: Callable[[Span], _S],
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._make = make

    def __enter__(self) -> _S:
        span = self._tracer.start_span(
            self._name,
            kind=self._kind,
            attributes=self._attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        self._token = context.attach(trace.set_span_in_context(span))
        self._recorded = self._make(span)
        return self._recorded

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self._recorded.span
        try:
            if exc is not None and not isinstance(exc, GeneratorExit):
                span.set_attribute("error.type", type(exc).__qualname__)
                span.record_exception(exc, escaped=True)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        finally:
            context.detach(self._token)
            span.end()


def llm_call(
    model: str,
    *,
    provider: str | None = None,
    operation: str = "chat",
    prompt_version: str | None = None,
    route: str | None = None,
    segment: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    input_messages: MessagesLike | None = None,
    system_instructions: str | Sequence[Any] | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> AbstractContextManager[LLMSpan]:
    """Record one LLM call as a span named ``"{operation} {model}"``; set what it answered
    with `LLMSpan.set_output` inside the block. The span comes from `tracer_provider`,
    else the latest `setup()`'s, else the global one."""

    def build() -> Attributes:
        request: Attributes = {"gen_ai.operation.name": str(operation)}
        _put(request, "gen_ai.provider.name", provider)
        _put(request, "gen_ai.request.model", model)
        _put(request, "gen_ai.conversation.id", session_id)
        _put(request, "user.id", user_id)
        _put(request, "liveeval.prompt.version", prompt_version)
        _put(request, "liveeval.route", route)
        _put(request, "liveeval.segment", segment)
        if input_messages is not None:
            request["gen_ai.input.messages"] = messages.input_json(input_messages)
        if system_instructions is not None:
            parts = messages.system_instructions(system_instructions)
            request["gen_ai.system_instructions"] = messages.dump_json(parts)
        if attributes:
            request.update(attributes)
        return request

    tracer = get_tracer(tracer_provider)
    request = {} if is_noop(tracer) else _safely("the request", build)
    return _Scope(tracer, f"{operation} {model}", SpanKind.CLIENT, request, LLMSpan)


def retrieval(
    query: str,
    documents: Sequence[Mapping[str, Any] | str] | None = None,
    *,
    name: str = "retrieve",
    attributes: Mapping[str, AttributeValue] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> AbstractContextManager[RetrieverSpan]:
    """Record one retrieval (a vector search, a keyword search) as a RETRIEVER span; give
    the documents here or with `RetrieverSpan.set_documents` inside the block."""

    def build() -> Attributes:
        request: Attributes = {"openinference.span.kind": "RETRIEVER"}
        _put(request, "input.value", query)
        if documents is not None:
            request.update(_documents(documents))
        if attributes:
            request.update(attributes)
        return request

    tracer = get_tracer(tracer_provider)
    request = {} if is_noop(tracer) else _safely("the retrieval", build)
    return _Scope(tracer, name, SpanKind.INTERNAL, request, RetrieverSpan)


def _documents(documents: Sequence[Mapping[str, Any] | str]) -> Attributes:
    attributes: Attributes = {}
    for index, document in enumerate(documents):
        prefix = f"retrieval.documents.{index}.document."
        if isinstance(document, str):
            attributes[prefix + "content"] = document
            continue
        _put(attributes, prefix + "id", document.get("id"), str)
        _put(attributes, prefix + "content", document.get("content"), str)
        _put(attributes, prefix + "score", document.get("score"), float)
        if document.get("metadata") is not None:
            attributes[prefix + "metadata"] = messages.dump_json(document["metadata"])
    return attributes


def _put(
    attributes: Attributes,
    key: str,
    value: object,
    kind: Callable[[Any], AttributeValue] = str,
) -> None:
    """Set `key` to `value` converted by `kind` (str, int, float), unless it is None;
    a value that does not convert is logged and left out."""
    if value is None:
        return
    if type(value) is kind:  # already what it should be: most calls
        attributes[key] = value  # type: ignore[assignment]
        return
    try:
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"not an int: {value!r}")
        attributes[key] = kind(value)
    except (TypeError, ValueError) as exc:
        log.warning("liveeval: left %s out of a span: %s", key, exc)


def _safely(what: str, build: Callable[[], Attributes]) -> Attributes:
    """`build()`, or nothing (logged) when the app's values cannot be recorded."""
    try:
        return build()
    except Exception:
        log.warning("liveeval: could not record %s of a span", what, exc_info=True)
        return {}
