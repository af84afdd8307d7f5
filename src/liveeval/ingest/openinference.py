"""Reading one LLM call, or a retriever's documents, off an OpenInference span.

OpenInference (Arize Phoenix's conventions) flattens lists into indexed
attributes: ``llm.input_messages.N.message.role``,
``llm.output_messages.N.message.tool_calls.M.tool_call.function.name``,
``retrieval.documents.N.document.content``. It also keeps the raw request and
response as ``input.value`` / ``output.value``; those are read only where the
flattened attributes are missing. What its hide settings (``OPENINFERENCE_HIDE_INPUTS``,
``…_OUTPUTS``, ``…_TEXT``) replaced with ``__REDACTED__`` is read as not captured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from liveeval.ingest.content import (
    build_usage,
    coerce_cost,
    coerce_float,
    coerce_id,
    coerce_str,
    coerce_strs,
    collect_finish_reasons,
    collect_tool_calls,
    decode_chat_message,
    decode_choices,
    decode_json,
    decode_metadata,
    dump_arguments,
    extract_text,
    first_count,
    first_text,
    group_indexed,
    joined_text,
    last_user_text,
)
from liveeval.ingest.llm_call import LLMCall
from liveeval.model import Message, RetrievedDocument, Span, ToolCall

Messages = tuple[Message, ...]

_JSON_MIME_TYPE = "application/json"
# What OpenInference writes in place of content its config hides.
REDACTED = "__REDACTED__"
_CACHE_READ_TOKENS = (
    "llm.token_count.prompt_details.cache_read",
    "llm.token_count.prompt_details.cache_input",  # some instrumentations put cached input here
)


def extract_openinference(span: Span) -> LLMCall | None:
    """The LLM call an OpenInference ``LLM`` span reports, or None for any other span."""
    attributes = span.attributes
    if _span_kind(attributes) != "LLM":
        return None
    request = _json_body(attributes, "input")
    response = _json_body(attributes, "output")
    operation = _operation(attributes, request)
    inputs = (
        _indexed_messages(attributes, "llm.input_messages", "user")
        or _prompt_messages(attributes)
        or _request_messages(request)
    )
    outputs = (
        _indexed_messages(attributes, "llm.output_messages", "assistant")
        or _completion_messages(attributes)
        or decode_choices(response.get("choices") if response else None)
    )
    if inputs:
        input_text = (
            joined_text(inputs) if operation == "text_completion" else last_user_text(inputs)
        )
    else:
        input_text = _shown(attributes, "input.value")
    invocation = _json_object(attributes.get("llm.invocation_parameters"))
    model_name = _str(attributes, "llm.model_name")
    finish_reasons = coerce_strs(attributes.get("llm.finish_reason"))
    return LLMCall(
        convention="openinference",
        operation=operation,
        provider=_str(attributes, "llm.provider") or _str(attributes, "llm.system"),
        model_requested=(
            _str(attributes, "llm.request.model_name")
            or coerce_str(invocation.get("model"))
            or model_name
        ),
        model_served=_str(attributes, "llm.response.model_name") or model_name,
        response_id=coerce_id(response.get("id")) if response else None,
        finish_reasons=finish_reasons or collect_finish_reasons(outputs),
        input_text=input_text,
        input_messages=inputs,
        output_text=first_text(outputs) if outputs else _shown(attributes, "output.value"),
        output_messages=outputs,
        tool_calls=collect_tool_calls(outputs),
        usage=build_usage(
            input=first_count(attributes, ("llm.token_count.prompt",)),
            output=first_count(attributes, ("llm.token_count.completion",)),
            total=first_count(attributes, ("llm.token_count.total",)),
            cache_read=first_count(attributes, _CACHE_READ_TOKENS),
            cache_creation=first_count(attributes, ("llm.token_count.prompt_details.cache_write",)),
            reasoning=first_count(attributes, ("llm.token_count.completion_details.reasoning",)),
        ),
        cost_usd=coerce_cost(attributes.get("llm.cost.total")),
        prompt_version=_str(attributes, "llm.prompt_template.version"),
        session_id=_id(attributes, "session.id"),
        user_id=_id(attributes, "user.id"),
        tags=coerce_strs(attributes.get("tag.tags")),
        metadata=decode_metadata(attributes.get("metadata")) or {},
    )


def retrieval_documents(span: Span) -> tuple[RetrievedDocument, ...]:
    """The documents a ``RETRIEVER`` span returned, in rank order; () for other spans."""
    if _span_kind(span.attributes) != "RETRIEVER":
        return ()
    documents: list[RetrievedDocument] = []
    for group in group_indexed(span.attributes, "retrieval.documents"):
        document = RetrievedDocument(
            content=extract_text(group.get("document.content")),
            id=coerce_id(group.get("document.id")),
            score=coerce_float(group.get("document.score")),
            metadata=decode_metadata(group.get("document.metadata")),
        )
        if document != RetrievedDocument(content=None):
            documents.append(document)
    return tuple(documents)


def _span_kind(attributes: Mapping[str, Any]) -> str | None:
    kind = _str(attributes, "openinference.span.kind")
    return kind.upper() if kind is not None else None


def _str(attributes: Mapping[str, Any], key: str) -> str | None:
    return coerce_str(attributes.get(key))


def _id(attributes: Mapping[str, Any], key: str) -> str | None:
    return coerce_id(attributes.get(key))


def _shown(attributes: Mapping[str, Any], key: str) -> str | None:
    """The text at `key`; None where the instrumentation hid it."""
    text = _str(attributes, key)
    return None if text == REDACTED else text


def _operation(attributes: Mapping[str, Any], request: Mapping[str, Any] | None) -> str | None:
    """OpenInference has no operation name: tell chat from completion by what was recorded."""
    keys = [key for key in attributes if isinstance(key, str)]
    if any(key.startswith(("llm.input_messages.", "llm.output_messages.")) for key in keys):
        return "chat"
    if any(key.startswith(("llm.prompts", "llm.choices.")) for key in keys):
        return "text_completion"
    if request is not None and "messages" in request:
        return "chat"
    if request is not None and "prompt" in request:
        return "text_completion"
    return None


def _json_object(value: Any) -> dict[str, Any]:
    decoded = decode_json(value) if isinstance(value, str | bytes) else value
    return dict(decoded) if isinstance(decoded, dict) else {}


def _json_body(attributes: Mapping[str, Any], side: str) -> dict[str, Any] | None:
    """``input.value`` / ``output.value`` decoded, when its mime type says JSON."""
    mime_type = _str(attributes, f"{side}.mime_type")
    if mime_type is None or mime_type.split(";")[0].strip().lower() != _JSON_MIME_TYPE:
        return None
    return _json_object(attributes.get(f"{side}.value")) or None


def _indexed_messages(attributes: Mapping[str, Any], prefix: str, default_role: str) -> Messages:
    """The messages, less those whose text was hidden and that called no tool."""
    messages = (
        _indexed_message(group, default_role) for group in group_indexed(attributes, prefix)
    )
    return tuple(message for message in messages if message is not None)


def _indexed_message(group: Mapping[str, Any], default_role: str) -> Message | None:
    fields = {key[8:]: value for key, value in group.items() if key.startswith("message.")}
    content = extract_text(fields.get("content"))
    if content is None:
        content = _contents_text(group_indexed(fields, "contents"))
    calls = _tool_calls(fields)
    if content == REDACTED:
        if not calls:
            return None
        content = None
    return Message(
        role=_str(fields, "role") or default_role,
        content=content,
        tool_calls=calls,
        tool_call_id=_id(fields, "tool_call_id"),
        name=_str(fields, "name"),
    )


def _contents_text(contents: list[dict[str, Any]]) -> str | None:
    """The text items of ``message.contents.M.message_content.*``, joined with newlines."""
    texts = [
        text
        for item in contents
        if _str(item, "message_content.type") in (None, "text")
        and (text := _str(item, "message_content.text")) is not None
    ]
    shown = [text for text in texts if text != REDACTED]
    if texts and not shown:
        return REDACTED
    return "\n".join(shown) if shown else None


def _tool_calls(fields: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    calls = [
        ToolCall(
            name=name,
            arguments=dump_arguments(call.get("tool_call.function.arguments")),
            id=_id(call, "tool_call.id"),
        )
        for call in group_indexed(fields, "tool_calls")
        if (name := _str(call, "tool_call.function.name")) is not None
    ]
    legacy_name = _str(fields, "function_call_name")
    if legacy_name is not None:  # the pre-tools function-call form
        arguments = dump_arguments(fields.get("function_call_arguments_json"))
        calls.append(ToolCall(name=legacy_name, arguments=arguments))
    return tuple(calls)


def _prompt_messages(attributes: Mapping[str, Any]) -> Messages:
    """``llm.prompts.N.prompt.text`` (or an older plain list) of a completion call."""
    prompts = attributes.get("llm.prompts")
    if isinstance(prompts, list | tuple):
        texts = [text for prompt in prompts if (text := coerce_str(prompt)) is not None]
    else:
        groups = group_indexed(attributes, "llm.prompts")
        texts = [text for group in groups if (text := _str(group, "prompt.text")) is not None]
    return tuple(Message(role="user", content=text) for text in texts)


def _completion_messages(attributes: Mapping[str, Any]) -> Messages:
    """``llm.choices.N.completion.text`` of a completion call."""
    return tuple(
        Message(role="assistant", content=_str(group, "completion.text"))
        for group in group_indexed(attributes, "llm.choices")
    )


def _request_messages(request: Mapping[str, Any] | None) -> Messages:
    """Input messages from an OpenAI-style request body (chat, completion or responses)."""
    if request is None:
        return ()
    messages = request.get("messages")
    if messages is None and isinstance(request.get("input"), list):
        messages = request["input"]
    if isinstance(messages, list):
        decoded = (decode_chat_message(item, "user") for item in messages)
        return tuple(message for message in decoded if message is not None)
    prompt = request.get("prompt", request.get("input"))
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list):
        return ()
    return tuple(Message(role="user", content=p) for p in prompts if isinstance(p, str) and p)
