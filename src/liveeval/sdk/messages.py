"""Chat messages in the GenAI semantic conventions' parts schema, as span attribute JSON.

An app hands over messages the way its provider's client spoke them (OpenAI-style
``{"role", "content", "tool_calls"}``, Anthropic-style content blocks, a plain string,
or messages already in the parts schema); these functions turn them into the
``[{"role": "user", "parts": [{"type": "text", "content": "..."}]}]`` form that
``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions``
carry. Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

Part = dict[str, Any]
SemconvMessage = dict[str, Any]


class ModelLike(Protocol):
    """A provider client's message object (a pydantic model, e.g. ChatCompletionMessage)."""

    def model_dump(self, *, exclude_none: bool = ...) -> dict[str, Any]: ...


# What an app may pass: a string, one message, or a list of messages.
MessagesLike = str | Mapping[str, Any] | ModelLike | Sequence[Any]


def input_messages(messages: MessagesLike) -> list[SemconvMessage]:
    """The input messages in the parts schema; a plain string is one user message."""
    return [_message(m, "user") for m in _as_list(messages)]


def output_messages(output: MessagesLike, finish_reason: str) -> list[SemconvMessage]:
    """The output messages in the parts schema, each with its ``finish_reason``."""
    converted = []
    for item in _as_list(output):
        message = _message(item, "assistant")
        message.setdefault("finish_reason", finish_reason)
        converted.append(message)
    return converted


def system_instructions(value: str | Sequence[Any]) -> list[Part]:
    """System instructions as a list of parts (the convention has no role for them)."""
    if isinstance(value, str):
        return [_text(value)]
    parts: list[Part] = []
    for item in value:
        parts.extend(_content_parts(item))
    return parts


def input_json(messages: MessagesLike) -> str:
    """``dump_json(input_messages(messages))``, written directly for the usual shapes (a
    string, or dicts of a str role and str content), which are most calls."""
    if isinstance(messages, str):
        return f'[{{"role":"user","parts":[{_text_json(messages)}]}}]'
    if type(messages) is list and all(map(_is_simple, messages)):
        return "[" + ",".join(map(_simple_json, messages)) + "]"
    return dump_json(input_messages(messages))


def output_json(output: MessagesLike, finish_reason: str) -> str:
    """``dump_json(output_messages(output, finish_reason))``, written directly for text."""
    if isinstance(output, str) and isinstance(finish_reason, str):
        return (
            f'[{{"role":"assistant","parts":[{_text_json(output)}],'
            f'"finish_reason":{_encode_str(finish_reason)}}}]'
        )
    return dump_json(output_messages(output, finish_reason))


def _is_simple(message: Any) -> bool:
    return (
        type(message) is dict
        and len(message) == 2
        and type(message.get("role")) is str
        and message["role"] != ""
        and type(message.get("content")) is str
    )


def _simple_json(message: dict[str, str]) -> str:
    return f'{{"role":{_encode_str(message["role"])},"parts":[{_text_json(message["content"])}]}}'


def _text_json(content: str) -> str:
    return f'{{"type":"text","content":{_encode_str(content)}}}'


def dump_json(value: Any) -> str:
    """Compact JSON for an attribute value; objects JSON cannot hold become their str()."""
    if _c_encode is None:
        return _ENCODER.encode(value)
    return "".join(_c_encode(value, 0))


# What `json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)` does,
# built once: json.dumps builds an encoder per call, a third of its time for a message.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
_encode_str: Any = json.encoder.encode_basestring  # a JSON string, non-ASCII kept
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# No circular-reference markers (a shared dict would go stale after an error): a
# self-containing value raises RecursionError instead of ValueError, logged all the same.
_c_encode: Any = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(None, str, _encode_str, None, ":", ",", False, False, True)
)


_PLAIN = frozenset({str, dict, list})  # types `_plain` returns as they are


def _as_list(messages: MessagesLike) -> list[Any]:
    if type(messages) is list:  # the usual case, without the ABC checks below
        return messages
    if isinstance(messages, str | Mapping) or hasattr(messages, "model_dump"):
        return [messages]
    return list(messages)


def _plain(item: Any) -> Any:
    """A dict for SDK model objects (pydantic models of the provider clients), else as is."""
    if type(item) in _PLAIN:
        return item
    dump = getattr(item, "model_dump", None)
    if callable(dump) and not isinstance(item, Mapping):
        return dump(exclude_none=True)
    return item


def _message(item: Any, default_role: str) -> SemconvMessage:
    item = _plain(item)
    if isinstance(item, str):
        return {"role": default_role, "parts": [_text(item)]}
    if type(item) is not dict and not isinstance(item, Mapping):
        return {"role": default_role, "parts": [_text(str(item))]}
    if isinstance(item.get("parts"), list):
        return dict(item)  # already in the parts schema
    role = str(item.get("role") or default_role)
    content = item.get("content")
    parts: list[Part] = []
    call_id = item.get("tool_call_id")
    if role == "tool" and call_id is not None:
        parts.append({"type": "tool_call_response", "id": str(call_id), "response": content})
    else:
        parts.extend(_content_parts(content))
    for call in item.get("tool_calls") or ():
        parts.append(_tool_call(_plain(call)))
    message: SemconvMessage = {"role": role, "parts": parts}
    if item.get("name"):
        message["name"] = str(item["name"])
    if item.get("finish_reason"):
        message["finish_reason"] = str(item["finish_reason"])
    return message


def _content_parts(content: Any) -> list[Part]:
    if type(content) is str:
        return [{"type": "text", "content": content}]
    content = _plain(content)
    if content is None:
        return []
    if isinstance(content, str):
        return [_text(content)]
    if isinstance(content, Mapping):
        return [_part(content)]
    if isinstance(content, Sequence):
        parts: list[Part] = []
        for item in content:
            parts.extend(_content_parts(item))
        return parts
    return [_text(str(content))]


def _part(block: Mapping[str, Any]) -> Part:
    kind = block.get("type")
    if kind == "text" and "text" in block and "content" not in block:
        return _text(str(block["text"]))  # OpenAI and Anthropic text blocks
    if kind == "tool_use":  # Anthropic
        return {
            "type": "tool_call",
            "id": block.get("id"),
            "name": block.get("name"),
            "arguments": block.get("input"),
        }
    if kind == "tool_result":  # Anthropic
        return {
            "type": "tool_call_response",
            "id": block.get("tool_use_id"),
            "response": block.get("content"),
        }
    if kind is None and "text" in block:
        return _text(str(block["text"]))
    return dict(block)  # a parts-schema part already, or a generic one (image, file, ...)


def _tool_call(call: Any) -> Part:
    if not isinstance(call, Mapping):
        return {"type": "tool_call", "name": str(call)}
    if call.get("type") == "tool_call":
        return dict(call)
    function = call.get("function")
    source = function if isinstance(function, Mapping) else call
    return {
        "type": "tool_call",
        "id": call.get("id"),
        "name": source.get("name"),
        "arguments": _arguments(source.get("arguments")),
    }


def _arguments(value: Any) -> Any:
    """OpenAI sends arguments as a JSON string; the convention holds the object."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _text(content: str) -> Part:
    return {"type": "text", "content": content}
