"""Builders of telemetry for tests: model spans, OTLP/JSON documents, OTLP protobuf requests.

Every builder writes exactly what a test names and nothing it does not, so a test's
expectations can be read off its call.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Status
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from liveeval.ingest.otlp import STATUS_CODES, span_from_proto
from liveeval.model import LogEvent, Span

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def trace_id(n: int | None = None) -> str:
    """A 32-hex-digit trace id; distinct per call unless `n` is given."""
    return f"{next(_ids) if n is None else n:032x}"


def span_id(n: int | None = None) -> str:
    return f"{next(_ids) if n is None else n:016x}"


def nanos(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1000


def genai_attributes(
    *,
    model: str = "gpt-4o-mini",
    served: str | None = "gpt-4o-mini-2024-07-18",
    response_id: str | None = None,
    input_tokens: int | None = 10,
    output_tokens: int | None = 5,
    **extra: Any,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": model,
    }
    optional = {
        "gen_ai.response.model": served,
        "gen_ai.response.id": response_id,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    attributes.update(extra)
    return attributes


def chat_attributes(question: str, answer: str, **extra: Any) -> dict[str, Any]:
    """GenAI attributes of a chat call with its content as JSON message attributes."""
    user = [{"role": "user", "parts": [{"type": "text", "content": question}]}]
    assistant = [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": answer}],
        }
    ]
    return genai_attributes(
        **{
            "gen_ai.input.messages": json.dumps(user),
            "gen_ai.output.messages": json.dumps(assistant),
        },
        **extra,
    )


def retriever_attributes(*documents: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {"openinference.span.kind": "RETRIEVER"}
    for n, content in enumerate(documents):
        attributes[f"retrieval.documents.{n}.document.id"] = f"doc-{n}"
        attributes[f"retrieval.documents.{n}.document.content"] = content
    return attributes


def model_span(
    attributes: dict[str, Any],
    *,
    trace: str,
    span: str | None = None,
    parent: str | None = None,
    name: str = "chat gpt-4o-mini",
    start: datetime = T0,
    duration: timedelta = timedelta(milliseconds=250),
    project: str = "default",
    status: str = "unset",
    events: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
    resource: dict[str, Any] | None = None,
    scope: str = "tests",
) -> Span:
    """A span as the OTLP decoder makes it (with its protobuf encoding, as the store keeps it)."""
    proto = proto_span(
        attributes,
        trace=trace,
        span=span or span_id(),
        parent=parent,
        name=name,
        start=start,
        duration=duration,
        status_code=STATUS_CODES.index(status),
        events=events,
    )
    return span_from_proto(proto, proto.SerializeToString(), project, resource or {}, scope)


def model_log_event(
    name: str, *, trace: str, span: str, body: Any, project: str = "default", at: datetime = T0
) -> LogEvent:
    return LogEvent(
        project=project, trace_id=trace, span_id=span, name=name, at=at, attributes={}, body=body
    )


# -- OTLP/JSON (lowerCamelCase, hex ids, 64-bit integers as strings, enums as integers) --------


def json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [json_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": json_attributes(value)}}
    return {"stringValue": str(value)}


def json_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": json_value(value)} for key, value in attributes.items()]


def json_span(
    attributes: dict[str, Any],
    *,
    trace: str,
    span: str,
    parent: str | None = None,
    name: str = "chat gpt-4o-mini",
    start: datetime = T0,
    duration: timedelta = timedelta(milliseconds=250),
    status_code: int = 0,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(nanos(start)),
        "endTimeUnixNano": str(nanos(start + duration)),
        "attributes": json_attributes(attributes),
        "status": {"code": status_code},
    }
    if parent is not None:
        document["parentSpanId"] = parent
    return document


def json_traces(*spans: dict[str, Any], service: str | None = None) -> dict[str, Any]:
    resource = {"service.name": service} if service is not None else {}
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": json_attributes(resource)},
                "scopeSpans": [{"scope": {"name": "tests"}, "spans": list(spans)}],
            }
        ]
    }


def json_log_record(
    event_name: str, *, trace: str, span: str, body: Any, at: datetime = T0
) -> dict[str, Any]:
    return {
        "timeUnixNano": str(nanos(at)),
        "eventName": event_name,
        "traceId": trace,
        "spanId": span,
        "body": json_value(body),
        "attributes": json_attributes({"gen_ai.system": "openai"}),
    }


def json_logs(*records: dict[str, Any], service: str | None = None) -> dict[str, Any]:
    resource = {"service.name": service} if service is not None else {}
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": json_attributes(resource)},
                "scopeLogs": [{"scope": {"name": "tests"}, "logRecords": list(records)}],
            }
        ]
    }


# -- OTLP protobuf, built with the opentelemetry.proto messages -----------------------------


def proto_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[proto_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def proto_attributes(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=proto_value(value)) for key, value in attributes.items()]


def proto_span(
    attributes: dict[str, Any],
    *,
    trace: str,
    span: str,
    parent: str | None = None,
    name: str = "chat gpt-4o-mini",
    start: datetime = T0,
    duration: timedelta = timedelta(milliseconds=250),
    status_code: int = 0,
    events: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
) -> SpanProto:
    return SpanProto(
        trace_id=bytes.fromhex(trace),
        span_id=bytes.fromhex(span),
        parent_span_id=bytes.fromhex(parent) if parent else b"",
        name=name,
        kind=SpanProto.SPAN_KIND_CLIENT,
        start_time_unix_nano=nanos(start),
        end_time_unix_nano=nanos(start + duration),
        attributes=proto_attributes(attributes),
        status=Status(code=status_code),
        events=[
            SpanProto.Event(
                name=event_name,
                time_unix_nano=nanos(start),
                attributes=proto_attributes(event_attributes),
            )
            for event_name, event_attributes in events
        ],
    )


def proto_traces(*spans: SpanProto, service: str | None = None) -> ExportTraceServiceRequest:
    resource = {"service.name": service} if service is not None else {}
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=proto_attributes(resource)),
                scope_spans=[
                    ScopeSpans(scope=InstrumentationScope(name="tests"), spans=list(spans))
                ],
            )
        ]
    )


def proto_logs(*records: LogRecord, service: str | None = None) -> ExportLogsServiceRequest:
    resource = {"service.name": service} if service is not None else {}
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=proto_attributes(resource)),
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(name="tests"), log_records=list(records))
                ],
            )
        ]
    )
