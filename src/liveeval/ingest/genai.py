"""Reading one LLM call off a span in the OpenTelemetry GenAI semantic conventions.

Covers the current conventions (``gen_ai.input.messages`` and friends, on the span
or on the ``gen_ai.client.inference.operation.details`` event) and the older
forms still emitted in the wild: one event per message (``gen_ai.user.message``,
``gen_ai.choice``, as log records or span events) and the flattened
``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*`` attributes of OpenLLMetry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from liveeval.ingest.content import (
    build_usage,
    coerce_cost,
    coerce_count,
    coerce_id,
    coerce_str,
    coerce_strs,
    collect_finish_reasons,
    collect_tool_calls,
    decode_chat_message,
    decode_choices,
    decode_json,
    dump_arguments,
    extract_text,
    first_count,
    first_text,
    group_indexed,
    joined_text,
    last_user_text,
)
from liveeval.ingest.llm_call import LLMCall
from liveeval.model import LogEvent, Message, Span, ToolCall

Messages = tuple[Message, ...]
Content = tuple[Messages, Messages]  # (input messages, output messages)

INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
CHOICE_EVENT = "gen_ai.choice"
MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
# Semconv v1.26 put the whole prompt and completion on these span events.
_CONTENT_EVENTS = frozenset({"gen_ai.content.prompt", "gen_ai.content.completion"})
# OpenLLMetry's request type, for spans that predate gen_ai.operation.name.
_REQUEST_TYPES = {"chat": "chat", "completion": "text_completion"}

_INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_TOTAL_TOKENS = ("gen_ai.usage.total_tokens", "llm.usage.total_tokens")
_CACHE_READ_TOKENS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
)
_CACHE_CREATION_TOKENS = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.cache_write_input_tokens",
)
_REASONING_TOKENS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_output_tokens",
    "gen_ai.usage.reasoning_tokens",
)


def extract_genai(span: Span, log_events: Sequence[LogEvent] = ()) -> LLMCall | None:
    """The LLM call a GenAI inference span reports, or None for any other span.

    ``log_events`` are the span's OTLP log records (the GenAI event form).
    """
    attributes = span.attributes
    operation = _operation(attributes)
    provider = _str(attributes, "gen_ai.provider.name") or _str(attributes, "gen_ai.system")
    model_requested = _str(attributes, "gen_ai.request.model")
    if operation is not None and operation not in INFERENCE_OPERATIONS:
        return None
    if operation is None and model_requested is None and provider is None:
        return None
    inputs, outputs = _read_content(span, log_events)
    usage = build_usage(
        input=first_count(attributes, _INPUT_TOKENS),
        output=first_count(attributes, _OUTPUT_TOKENS),
        total=first_count(attributes, _TOTAL_TOKENS),
        cache_read=first_count(attributes, _CACHE_READ_TOKENS),
        cache_creation=first_count(attributes, _CACHE_CREATION_TOKENS),
        reasoning=first_count(attributes, _REASONING_TOKENS),
    )
    has_usage = usage.input is not None or usage.output is not None
    if operation is None and model_requested is None and not (has_usage or inputs or outputs):
        return None  # no operation: a provider alone is not enough, usage or messages must be there
    finish_reasons = coerce_strs(attributes.get("gen_ai.response.finish_reasons"))
    completion = operation == "text_completion"
    return LLMCall(
        convention="genai",
        operation=operation,
        provider=provider,
        model_requested=model_requested,
        model_served=_str(attributes, "gen_ai.response.model"),
        response_id=_id(attributes, "gen_ai.response.id"),
        finish_reasons=finish_reasons or collect_finish_reasons(outputs),
        input_text=joined_text(inputs) if completion else last_user_text(inputs),
        input_messages=inputs,
        output_text=first_text(outputs),
        output_messages=outputs,
        tool_calls=collect_tool_calls(outputs),
        usage=usage,
        cost_usd=coerce_cost(attributes.get("gen_ai.usage.cost")),
        prompt_version=_str(attributes, "gen_ai.prompt.version"),
        session_id=_id(attributes, "gen_ai.conversation.id"),
        user_id=_id(attributes, "user.id") or _id(attributes, "enduser.id"),
    )


def _str(attributes: Mapping[str, Any], key: str) -> str | None:
    return coerce_str(attributes.get(key))


def _id(attributes: Mapping[str, Any], key: str) -> str | None:
    return coerce_id(attributes.get(key))


def _operation(attributes: Mapping[str, Any]) -> str | None:
    """``gen_ai.operation.name`` lowercased, or OpenLLMetry's ``llm.request.type``."""
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation:
        return operation.lower()
    request_type = attributes.get("llm.request.type")
    if isinstance(request_type, str) and request_type:
        return _REQUEST_TYPES.get(request_type.lower(), request_type.lower())
    return None


# -- content: the first source that has it wins, inputs and outputs each ----------------


def _read_content(span: Span, log_events: Sequence[LogEvent]) -> Content:
    inputs: Messages = ()
    outputs: Messages = ()
    for found_inputs, found_outputs in _content_sources(span, log_events):
        inputs = inputs or found_inputs
        outputs = outputs or found_outputs
        if inputs and outputs:
            break
    return inputs, outputs


def _content_sources(span: Span, log_events: Sequence[LogEvent]) -> Iterator[Content]:
    """Each place content may be, in order of preference; read lazily."""
    yield _from_message_attributes(span.attributes)
    for payload in _details_payloads(span, log_events):
        yield _from_message_attributes(payload)
    yield _from_message_events(_message_event_payloads(span, log_events))
    yield _from_prompt_attributes(span.attributes)
    for event in span.events:
        if event.name in _CONTENT_EVENTS:
            yield _from_prompt_attributes(event.attributes)


def _from_message_attributes(attributes: Mapping[str, Any]) -> Content:
    """``gen_ai.system_instructions``, ``gen_ai.input.messages``, ``gen_ai.output.messages``."""
    system = _system_message(attributes.get("gen_ai.system_instructions"))
    inputs = _parts_messages(attributes.get("gen_ai.input.messages"), "user")
    outputs = _parts_messages(attributes.get("gen_ai.output.messages"), "assistant")
    return ((system, *inputs) if system is not None else inputs), outputs


def _parts_messages(value: Any, default_role: str) -> Messages:
    decoded = _decode_structure(value)
    if isinstance(decoded, dict):
        decoded = [decoded]
    if not isinstance(decoded, list | tuple):
        return ()
    messages = (_parts_message(item, default_role) for item in decoded)
    return tuple(message for message in messages if message is not None)


def _parts_message(item: Any, default_role: str) -> Message | None:
    """A message of the parts-based schema; an OpenAI-style dict is read as well."""
    if not isinstance(item, dict):
        return None
    parts = item.get("parts")
    if not isinstance(parts, list | tuple):
        return decode_chat_message(item, default_role)
    texts: list[str] = []
    calls: list[ToolCall] = []
    tool_call_id: str | None = None
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "tool_call":
            name = coerce_str(part.get("name"))
            if name is not None:
                arguments = dump_arguments(part.get("arguments"))
                calls.append(ToolCall(name, arguments, coerce_id(part.get("id"))))
        elif kind == "tool_call_response":
            tool_call_id = tool_call_id or coerce_id(part.get("id"))
            response = part.get("response")
            text = response if isinstance(response, str) else dump_arguments(response)
            if text is not None:
                texts.append(text)
        elif kind == "text" and isinstance(content := part.get("content"), str):
            texts.append(content)
        elif (text := extract_text([part])) is not None:
            texts.append(text)
    return Message(
        role=coerce_str(item.get("role")) or default_role,
        content="\n".join(texts) if texts else None,
        tool_calls=tuple(calls),
        tool_call_id=tool_call_id,
        name=coerce_str(item.get("name")),
        finish_reason=coerce_str(item.get("finish_reason")),
    )


def _system_message(value: Any) -> Message | None:
    """System instructions (a list of parts, or plain text) as one system message."""
    decoded = _decode_structure(value)
    if isinstance(decoded, list | tuple):
        texts = [text for item in decoded if (text := _instruction_text(item)) is not None]
        text = "\n".join(texts) if texts else None
    elif isinstance(decoded, dict):
        text = _instruction_text(decoded)
    else:
        text = _plain_text(value)
    return Message(role="system", content=text) if text is not None else None


def _instruction_text(item: Any) -> str | None:
    if isinstance(item, dict) and "parts" in item:
        message = _parts_message(item, "system")
        return message.content if message is not None else None
    if isinstance(item, dict) and "message" in item:  # the schema's older object form
        return extract_text(item["message"])
    return extract_text([item])


def _decode_structure(value: Any) -> Any:
    return decode_json(value) if isinstance(value, str | bytes) else value


def _plain_text(value: Any) -> str | None:
    """A string that is text rather than JSON; a JSON string that does not parse is dropped."""
    if not isinstance(value, str) or not value:
        return None
    decoded = decode_json(value)
    if isinstance(decoded, str):  # a JSON string literal
        return decoded
    if isinstance(decoded, list | dict) or value.lstrip().startswith(("[", "{")):
        return None  # a structure, or one cut short: not text
    return value


def _details_payloads(span: Span, log_events: Sequence[LogEvent]) -> Iterator[Mapping[str, Any]]:
    for event in span.events:
        if event.name == DETAILS_EVENT:
            yield event.attributes
    for log in log_events:
        if _event_name(log) == DETAILS_EVENT:
            yield log.attributes
            body = _decode_structure(log.body)
            if isinstance(body, dict):
                yield body


def _event_name(log: LogEvent) -> str | None:
    """The log record's event name; older SDKs sent it as the ``event.name`` attribute."""
    return coerce_str(log.name) or coerce_str(log.attributes.get("event.name"))


def _message_event_payloads(
    span: Span, log_events: Sequence[LogEvent]
) -> list[tuple[str, dict[str, Any]]]:
    """Per-message events with their payloads: the log records, else the span events."""
    from_logs = [
        (name, _log_payload(log))
        for log in log_events
        if (name := _event_name(log)) in MESSAGE_EVENTS or name == CHOICE_EVENT
    ]
    if from_logs:
        return from_logs
    return [
        (event.name, _attributes_payload(event.attributes))
        for event in span.events
        if event.name in MESSAGE_EVENTS or event.name == CHOICE_EVENT
    ]


def _log_payload(log: LogEvent) -> dict[str, Any]:
    payload = _attributes_payload(log.attributes)
    body = _decode_structure(log.body)
    if isinstance(body, dict):
        payload.update(body)
    elif (text := _plain_text(log.body)) is not None:
        payload["content"] = text
    return payload


def _attributes_payload(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Event attributes, with a ``gen_ai.event.content`` JSON payload merged in."""
    payload = dict(attributes)
    content = payload.pop("gen_ai.event.content", None)
    decoded = _decode_structure(content)
    if isinstance(decoded, dict):
        payload.update(decoded)
    elif (text := _plain_text(content)) is not None:
        payload.setdefault("content", text)
    return payload


def _from_message_events(payloads: Sequence[tuple[str, dict[str, Any]]]) -> Content:
    """The messages of per-message events; none when no event carries content: an
    instrumentation that captures none (openai-v2's default) still sends each event, with
    only the role, the index, the finish reason and tool call names."""
    if not any(_carries_content(payload) for _, payload in payloads):
        return (), ()
    inputs: list[Message] = []
    choices: list[dict[str, Any]] = []
    for name, payload in payloads:
        if name == CHOICE_EVENT:
            choices.append(payload)
        elif (message := decode_chat_message(payload, MESSAGE_EVENTS[name])) is not None:
            inputs.append(message)
    choices.sort(key=lambda choice: coerce_count(choice.get("index")) or 0)
    return tuple(inputs), decode_choices(choices)


def _carries_content(payload: Mapping[str, Any]) -> bool:
    message = payload.get("message")
    if isinstance(message, str | bytes):
        message = decode_json(message)
    body = message if isinstance(message, dict) else payload
    return "content" in body or "text" in body


def _from_prompt_attributes(attributes: Mapping[str, Any]) -> Content:
    """``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*``, or whole ``gen_ai.prompt`` values."""
    return (
        _flat_messages(attributes, "gen_ai.prompt", "user"),
        _flat_messages(attributes, "gen_ai.completion", "assistant"),
    )


def _flat_messages(attributes: Mapping[str, Any], prefix: str, default_role: str) -> Messages:
    groups = group_indexed(attributes, prefix)
    if groups:
        return tuple(_flat_message(group, default_role) for group in groups)
    whole = attributes.get(prefix)
    decoded = _decode_structure(whole)
    if isinstance(decoded, list | tuple):
        messages = (decode_chat_message(item, default_role) for item in decoded)
        return tuple(message for message in messages if message is not None)
    text = _plain_text(whole)
    return (Message(role=default_role, content=text),) if text is not None else ()


def _flat_message(group: Mapping[str, Any], default_role: str) -> Message:
    calls = tuple(
        ToolCall(name=name, arguments=dump_arguments(call.get("arguments")), id=_id(call, "id"))
        for call in group_indexed(group, "tool_calls")
        if (name := _str(call, "name")) is not None
    )
    return Message(
        role=_str(group, "role") or default_role,
        content=_loose_text(group.get("content")),
        tool_calls=calls,
        tool_call_id=_id(group, "tool_call_id"),
        finish_reason=_str(group, "finish_reason"),
    )


def _loose_text(value: Any) -> str | None:
    """Text content that may be a JSON-encoded list of parts (OpenLLMetry's multimodal form)."""
    if not isinstance(value, str):
        return extract_text(value)
    decoded = decode_json(value) if value.startswith(("[", "{")) else None
    text = extract_text(decoded) if isinstance(decoded, list | dict) else None
    return text if text is not None else value or None
