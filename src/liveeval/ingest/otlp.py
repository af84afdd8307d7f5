"""OTLP/HTTP payloads: bytes (protobuf or OTLP JSON) to protobuf requests to raw records.

OTLP JSON differs from the protobuf JSON mapping in one way that matters here:
trace and span ids are hex strings, not base64. Everything else (lowerCamelCase
keys, 64-bit integers as strings, enums as integers) `json_format` already reads.
Unknown fields are ignored, as the OTLP specification requires of receivers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from liveeval.model import LogEvent, Span, SpanEvent, StoredSpan

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
TRUNCATION_MARKER = "…[truncated {} chars]"
_ID_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PayloadError(ValueError):
    """The body cannot be read as an OTLP request; the message says where and why."""


class UnsupportedMediaType(ValueError):
    pass


T = TypeVar("T")
M = TypeVar("M", ExportTraceServiceRequest, ExportLogsServiceRequest)


@dataclass(slots=True)
class Decoded(Generic[T]):
    """What a request held: the records we accept and why the others were rejected."""

    records: list[T] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header; 415 for anything OTLP doesn't use."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    if bare in (PROTOBUF, JSON):
        return bare
    raise UnsupportedMediaType(
        f"unsupported content type {content_type!r}: send {PROTOBUF} or {JSON}"
    )


def parse_trace_request(body: bytes, kind: str) -> ExportTraceServiceRequest:
    return _parse(body, kind, ExportTraceServiceRequest())


def parse_logs_request(body: bytes, kind: str) -> ExportLogsServiceRequest:
    return _parse(body, kind, ExportLogsServiceRequest())


def _parse(body: bytes, kind: str, message: M) -> M:
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise PayloadError(f"malformed protobuf {message.DESCRIPTOR.name}: {exc}") from None
        return message
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PayloadError(f"the JSON body must be an object, not {type(document).__name__}")
    try:
        json_format.ParseDict(
            _hex_ids_to_base64(document, "$"), message, ignore_unknown_fields=True
        )
    except json_format.ParseError as exc:
        raise PayloadError(f"invalid OTLP JSON: {exc}") from None
    return message


def _hex_ids_to_base64(node: Any, path: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                out[key] = _hex_to_base64(value, f"{path}.{key}")
            else:
                out[key] = _hex_ids_to_base64(value, f"{path}.{key}")
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(item, f"{path}[{i}]") for i, item in enumerate(node)]
    return node


def _hex_to_base64(value: str, path: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        raise PayloadError(f"{path}: {value!r} is not a hex id") from None


def spans_from_request(
    request: ExportTraceServiceRequest,
    *,
    project: str | None,
    default_project: str,
    max_attribute_chars: int,
) -> Decoded[Span]:
    """Flatten a request into `Span`s. `project` (from an API key) wins over service.name."""
    decoded: Decoded[Span] = Decoded()
    for resource_spans in request.resource_spans:
        truncate_long_strings(resource_spans.resource, max_attribute_chars)
        resource = attributes_dict(resource_spans.resource.attributes)
        span_project = project or _service_name(resource) or default_project
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name or None
            for span in scope_spans.spans:
                problem = _span_problem(span)
                if problem:
                    decoded.rejected.append(problem)
                    continue
                encoded = span.SerializeToString()
                if len(encoded) > max_attribute_chars:  # else no value can be that long
                    truncate_long_strings(span, max_attribute_chars)
                    encoded = span.SerializeToString()
                decoded.records.append(
                    span_from_proto(span, encoded, span_project, resource, scope)
                )
    return decoded


def span_from_proto(
    span: ProtoSpan, encoded: bytes, project: str, resource: dict[str, Any], scope: str | None
) -> Span:
    status = span.status.code
    return Span(
        project=project,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        name=span.name,
        kind=SPAN_KINDS[span.kind] if span.kind < len(SPAN_KINDS) else "unspecified",
        start_at=from_unix_nano(span.start_time_unix_nano),
        end_at=from_unix_nano(span.end_time_unix_nano),
        status_code=STATUS_CODES[status] if status < len(STATUS_CODES) else "unset",
        status_message=span.status.message or None,
        attributes=attributes_dict(span.attributes),
        events=[
            SpanEvent(
                name=event.name,
                at=from_unix_nano(event.time_unix_nano),
                attributes=attributes_dict(event.attributes),
            )
            for event in span.events
        ],
        resource=resource,
        scope=scope,
        protobuf=encoded,
    )


def decode_span(stored: StoredSpan) -> Span:
    """A stored span back from its protobuf encoding."""
    encoded = stored.payload
    return span_from_proto(
        ProtoSpan.FromString(encoded), encoded, stored.project, stored.resource, stored.scope
    )


def log_events_from_request(
    request: ExportLogsServiceRequest,
    *,
    project: str | None,
    default_project: str,
    max_attribute_chars: int,
) -> Decoded[LogEvent]:
    """The GenAI events among the log records; other logs are accepted and not kept.

    A GenAI event without the span it belongs to cannot be attached and is rejected.
    """
    decoded: Decoded[LogEvent] = Decoded()
    for resource_logs in request.resource_logs:
        truncate_long_strings(resource_logs.resource, max_attribute_chars)
        resource = attributes_dict(resource_logs.resource.attributes)
        log_project = project or _service_name(resource) or default_project
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                truncate_long_strings(record, max_attribute_chars)
                attributes = attributes_dict(record.attributes)
                name = record.event_name or attributes.get("event.name")
                if not isinstance(name, str) or not name.startswith("gen_ai."):
                    continue
                if len(record.trace_id) != 16 or len(record.span_id) != 8:
                    decoded.rejected.append(f"log event {name!r} has no valid trace and span id")
                    continue
                decoded.records.append(
                    LogEvent(
                        project=log_project,
                        trace_id=record.trace_id.hex(),
                        span_id=record.span_id.hex(),
                        name=name,
                        at=from_unix_nano(record.time_unix_nano or record.observed_time_unix_nano),
                        attributes=attributes,
                        body=any_value(record.body) if record.HasField("body") else None,
                    )
                )
    return decoded


def _service_name(resource: dict[str, Any]) -> str | None:
    name = resource.get("service.name")
    if isinstance(name, str) and name and not name.startswith("unknown_service"):
        return name[:200]
    return None


def _span_problem(span: Any) -> str | None:
    if len(span.trace_id) != 16 or not any(span.trace_id):
        return f"span {span.name!r}: trace id must be 16 bytes, not all zero"
    if len(span.span_id) != 8 or not any(span.span_id):
        return f"span {span.name!r}: span id must be 8 bytes, not all zero"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return f"span {span.name!r}: parent span id must be 8 bytes"
    if span.start_time_unix_nano == 0:
        return f"span {span.name!r}: start time is missing"
    if span.end_time_unix_nano < span.start_time_unix_nano:
        return f"span {span.name!r}: ends before it starts"
    return None


def from_unix_nano(nanos: int) -> datetime:
    return datetime.fromtimestamp(nanos // 1000 / 1_000_000, tz=UTC) if nanos else _EPOCH


def attributes_dict(pairs: Any) -> dict[str, Any]:
    out = {}
    for pair in pairs:  # the hot loop of ingest: the common kinds inline
        value = pair.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            out[pair.key] = value.string_value
        elif kind == "int_value":
            out[pair.key] = value.int_value
        else:
            out[pair.key] = any_value(value)
    return out


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def truncate_long_strings(message: Message, limit: int) -> None:
    """Cut string and bytes values longer than `limit` in place, marking each cut.

    A message whose whole encoding fits in `limit` bytes has no such value, so the
    walk is skipped for almost every span.
    """
    if message.ByteSize() <= limit:
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        is_any = descriptor.message_type.full_name == AnyValue.DESCRIPTOR.full_name
        for item in value if descriptor.is_repeated else (value,):
            if is_any:
                _truncate_any(item, limit)
            else:
                truncate_long_strings(item, limit)


def _truncate_any(value: AnyValue, limit: int) -> None:
    kind = value.WhichOneof("value")
    if kind == "string_value" and len(value.string_value) > limit:
        value.string_value = truncate(value.string_value, limit)
    elif kind == "bytes_value" and len(value.bytes_value) > limit:
        value.bytes_value = value.bytes_value[:limit]
    elif kind == "array_value":
        for item in value.array_value.values:
            _truncate_any(item, limit)
    elif kind == "kvlist_value":
        for pair in value.kvlist_value.values:
            _truncate_any(pair.value, limit)


def truncate(text: str, limit: int) -> str:
    return text[:limit] + TRUNCATION_MARKER.format(len(text) - limit)
