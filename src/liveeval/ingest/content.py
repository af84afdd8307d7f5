"""Reading message content out of span attributes, whatever shape it arrives in.

Both conventions carry content as loosely typed attribute values: JSON text or
already-decoded structures, flattened ``prefix.N.key`` attributes, OpenAI-style
message dicts. These functions turn any of them into `Message`, `ToolCall` and
plain values. None of them raise on unexpected shapes: what cannot be read is
left out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import orjson

from liveeval.model import Message, TokenUsage, ToolCall

_MAX_DEPTH = 8
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
_INDEXED = re.compile(r"(\d+)\.(.+)", re.DOTALL)


def decode_json(value: Any) -> Any:
    """A JSON string or bytes decoded; any other value as it is; None when it does not parse."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except (ValueError, RecursionError):
        return None


def coerce_str(value: Any) -> str | None:
    """A non-empty string; anything else is None."""
    return value if isinstance(value, str) and value else None


def coerce_id(value: Any) -> str | None:
    """An identifier: a non-empty string, or the text of a number (ids are sometimes ints)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


# No call reads or writes two billion tokens; a larger count is a broken client, not
# usage, and would overflow the store's 32-bit token columns. It reads as unknown.
MAX_COUNT = 2**31 - 1


def coerce_count(value: Any) -> int | None:
    """A whole number in 0..MAX_COUNT from an int, an integral float or a numeric string."""
    if type(value) is int:
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    return None


def coerce_float(value: Any) -> float | None:
    """A finite number from an int, a float or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def coerce_cost(value: Any) -> float | None:
    """A cost in USD: a finite, non-negative number."""
    cost = coerce_float(value)
    return cost if cost is not None and cost >= 0 else None


def coerce_strs(value: Any) -> tuple[str, ...]:
    """Strings from a list, a single string, or a JSON list in a string."""
    if isinstance(value, str):
        decoded = decode_json(value) if value.startswith("[") else None
        return coerce_strs(decoded) if isinstance(decoded, list) else (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(item for item in value if isinstance(item, str) and item)
    return ()


def decode_metadata(value: Any) -> dict[str, Any] | None:
    """A dict from a dict or a JSON object; any other value kept under ``"value"``."""
    if value is None or value == "":
        return None
    decoded = decode_json(value) if isinstance(value, str | bytes) else value
    if isinstance(decoded, dict):
        return {str(key): item for key, item in decoded.items()}
    return {"value": value}


def dump_arguments(value: Any) -> str | None:
    """Tool-call arguments as JSON text: strings kept as the model wrote them."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return None


def extract_text(content: Any, depth: int = 0) -> str | None:
    """The text of a content value: a string, a list of parts, or a dict holding text.

    Non-text parts (images, audio, tool calls, reasoning) are skipped; text parts
    are joined with newlines.
    """
    if depth > _MAX_DEPTH:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple):
        texts = [text for part in content if (text := _part_text(part, depth + 1)) is not None]
        return "\n".join(texts) if texts else None
    if isinstance(content, dict):
        for key in ("text", "content", "value"):
            if key in content:
                return extract_text(content[key], depth + 1)
    return None


def _part_text(part: Any, depth: int) -> str | None:
    if isinstance(part, dict):
        kind = part.get("type")
        if kind is not None and not (isinstance(kind, str) and kind in _TEXT_PART_TYPES):
            return None
    return extract_text(part, depth)


def group_indexed(attributes: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Flattened ``prefix.N.key`` attributes as one dict per N, in numeric order of N."""
    lead = prefix + "."
    groups: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key.startswith(lead):
            continue
        match = _INDEXED.fullmatch(key, len(lead))
        if match is not None:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [groups[index] for index in sorted(groups)]


def decode_tool_calls(value: Any) -> tuple[ToolCall, ...]:
    """OpenAI-style tool calls: ``[{"id", "type", "function": {"name", "arguments"}}]``."""
    value = decode_json(value) if isinstance(value, str | bytes) else value
    if not isinstance(value, list | tuple):
        return ()
    calls: list[ToolCall] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        function = item.get("function")
        source = function if isinstance(function, dict) else item
        name = coerce_str(source.get("name"))
        if name is not None:
            arguments = dump_arguments(source.get("arguments"))
            calls.append(ToolCall(name=name, arguments=arguments, id=coerce_id(item.get("id"))))
    return tuple(calls)


def decode_chat_message(payload: Any, default_role: str) -> Message | None:
    """An OpenAI-style message dict (``role``, ``content``, ``tool_calls``, ...) as a Message."""
    return _chat_message(payload, default_role) if isinstance(payload, dict) else None


def _chat_message(payload: Mapping[str, Any], default_role: str) -> Message:
    role = coerce_str(payload.get("role")) or default_role
    tool_call_id = coerce_id(payload.get("tool_call_id"))
    if tool_call_id is None and role == "tool":
        tool_call_id = coerce_id(payload.get("id"))
    return Message(
        role=role,
        content=extract_text(payload.get("content")),
        tool_calls=decode_tool_calls(payload.get("tool_calls")),
        tool_call_id=tool_call_id,
        name=coerce_str(payload.get("name")),
        finish_reason=coerce_str(payload.get("finish_reason")),
    )


def decode_choices(choices: Any) -> tuple[Message, ...]:
    """Output messages from OpenAI-style ``choices`` (chat ``message`` or completion ``text``)."""
    if not isinstance(choices, list | tuple):
        return ()
    messages = (_choice_message(choice) for choice in choices if isinstance(choice, dict))
    return tuple(messages)


def _choice_message(choice: Mapping[str, Any]) -> Message:
    payload = choice.get("message")
    if isinstance(payload, str | bytes):
        payload = decode_json(payload)
    if isinstance(payload, dict):
        message = _chat_message(payload, "assistant")
    elif "text" in choice:
        message = Message(role="assistant", content=extract_text(choice["text"]))
    else:  # the message's fields set on the choice itself
        message = _chat_message(choice, "assistant")
    reason = coerce_str(choice.get("finish_reason"))
    if message.finish_reason is None and reason is not None:
        message = replace(message, finish_reason=reason)
    return message


def last_user_text(messages: Iterable[Message]) -> str | None:
    """The text of the last user message: what the user asked in this call."""
    texts = [m.content for m in messages if m.role == "user" and m.content is not None]
    return texts[-1] if texts else None


def joined_text(messages: Iterable[Message]) -> str | None:
    """The texts of all messages, joined with newlines (a completion prompt)."""
    texts = [m.content for m in messages if m.content is not None]
    return "\n".join(texts) if texts else None


def first_text(messages: tuple[Message, ...]) -> str | None:
    """The text of the first message (the first output choice)."""
    return messages[0].content if messages else None


def collect_tool_calls(messages: Iterable[Message]) -> tuple[ToolCall, ...]:
    return tuple(call for message in messages for call in message.tool_calls)


def collect_finish_reasons(messages: Iterable[Message]) -> tuple[str, ...]:
    return tuple(m.finish_reason for m in messages if m.finish_reason is not None)


def build_usage(
    *,
    input: int | None,
    output: int | None,
    total: int | None = None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    reasoning: int | None = None,
) -> TokenUsage:
    """Token usage; the total is input + output when the span did not report one."""
    if total is None and input is not None and output is not None:
        total = input + output
    return TokenUsage(
        input=input,
        output=output,
        total=total,
        cache_read=cache_read,
        cache_creation=cache_creation,
        reasoning=reasoning,
    )


def first_count(attributes: Mapping[str, Any], keys: Iterable[str]) -> int | None:
    """The first of the keys whose value reads as a token count."""
    for key in keys:
        value = attributes.get(key)
        if value is not None and (count := coerce_count(value)) is not None:
            return count
    return None
