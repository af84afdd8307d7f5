"""PII scrubbing at ingest, for the projects `[privacy] scrub_ingest_projects` names.

The stored span (its OTLP protobuf, which every interaction is assembled from) is
scrubbed before it is written, so neither the raw span nor the interaction ever
holds the PII. Only *content* attributes are scrubbed: prompts, messages, outputs,
retrieved documents, tool arguments, errors (`is_content_key`); ids, model names,
token counts and other structure are left as they are, so slicing and joining still
work. A JSON string attribute (GenAI messages) stays valid JSON: placeholders like
`<EMAIL_ADDRESS>` need no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from liveeval.ingest.otlp import span_from_proto
from liveeval.model.span import LogEvent, Span

ScrubString = Callable[[str], str]
R = TypeVar("R", Span, LogEvent)

_CONTENT = re.compile(
    r"content|message|prompt|completion|input|output|text|query|document|body|comment"
    r"|value|argument|error|exception|instruction|transcript",
    re.IGNORECASE,
)
_STRUCTURE = re.compile(
    r"mime_type|token|(^|[._])id$|[._]role$|model|finish_reason|operation|provider"
    r"|\.type$|count$|score$",
    re.IGNORECASE,
)


def is_content_key(key: str) -> bool:
    """Whether an attribute can hold what a user or the model wrote."""
    return bool(_CONTENT.search(key)) and not _STRUCTURE.search(key)


def scrub_records(
    records: Sequence[R], wanted: Callable[[str], bool], scrub: ScrubString
) -> list[R]:
    """`records` with the content of those whose project is `wanted` scrubbed."""
    out: list[R] = []
    for record in records:
        if not wanted(record.project):
            out.append(record)
        elif isinstance(record, Span):
            out.append(scrub_span(record, scrub))  # type: ignore[arg-type]
        else:
            out.append(scrub_log_event(record, scrub))  # type: ignore[arg-type]
    return out


def scrub_span(span: Span, scrub: ScrubString) -> Span:
    proto = ProtoSpan.FromString(span.protobuf)
    _scrub_pairs(proto.attributes, scrub)
    for event in proto.events:
        _scrub_pairs(event.attributes, scrub)
    if proto.status.message:
        proto.status.message = scrub(proto.status.message)
    encoded = proto.SerializeToString()
    return span_from_proto(proto, encoded, span.project, span.resource, span.scope)


def scrub_log_event(event: LogEvent, scrub: ScrubString) -> LogEvent:
    attributes = {
        key: _scrub_value(value, scrub) if is_content_key(key) else value
        for key, value in event.attributes.items()
    }
    return replace(event, attributes=attributes, body=_scrub_value(event.body, scrub))


def _scrub_pairs(pairs: Any, scrub: ScrubString) -> None:
    for pair in pairs:
        if is_content_key(pair.key):
            _scrub_any(pair.value, scrub)


def _scrub_any(value: AnyValue, scrub: ScrubString) -> None:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        value.string_value = scrub(value.string_value)
    elif kind == "array_value":
        for item in value.array_value.values:
            _scrub_any(item, scrub)
    elif kind == "kvlist_value":
        for pair in value.kvlist_value.values:
            if not _STRUCTURE.search(pair.key):
                _scrub_any(pair.value, scrub)


def _scrub_value(value: Any, scrub: ScrubString) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_value(v, scrub) for v in value]
    if isinstance(value, dict):
        return {
            k: v if _STRUCTURE.search(str(k)) else _scrub_value(v, scrub) for k, v in value.items()
        }
    return value
