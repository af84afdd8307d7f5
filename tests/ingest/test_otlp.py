from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from liveeval.ingest.otlp import (
    JSON,
    PROTOBUF,
    TRUNCATION_MARKER,
    PayloadError,
    UnsupportedMediaType,
    log_events_from_request,
    media_type,
    parse_logs_request,
    parse_trace_request,
    spans_from_request,
)
from tests.telemetry import (
    T0,
    json_logs,
    json_span,
    json_traces,
    proto_logs,
    proto_span,
    proto_traces,
    proto_value,
    span_id,
    trace_id,
)


def decode(document: dict, **options: object):  # type: ignore[no-untyped-def]
    request = parse_trace_request(orjson.dumps(document), JSON)
    kwargs = {"project": None, "default_project": "default", "max_attribute_chars": 1000}
    kwargs.update(options)
    return spans_from_request(request, **kwargs)  # type: ignore[arg-type]


def test_otlp_json_is_read_with_hex_ids_string_integers_and_enum_integers() -> None:
    trace, span, parent = trace_id(), span_id(), span_id()
    document = json_traces(
        json_span(
            {"gen_ai.usage.input_tokens": 12, "ok": True, "score": 0.5, "tags": ["a", "b"]},
            trace=trace,
            span=span,
            parent=parent,
            status_code=2,
        ),
        service="shop",
    )
    [decoded] = decode(document).records
    assert decoded.trace_id == trace
    assert decoded.span_id == span
    assert decoded.parent_span_id == parent
    assert decoded.kind == "client"
    assert decoded.status_code == "error"
    assert decoded.start_at == T0
    assert decoded.end_at == T0 + timedelta(milliseconds=250)
    assert decoded.attributes == {
        "gen_ai.usage.input_tokens": 12,
        "ok": True,
        "score": 0.5,
        "tags": ["a", "b"],
    }
    assert decoded.project == "shop"
    assert decoded.resource == {"service.name": "shop"}
    assert decoded.scope == "tests"


def test_json_and_protobuf_of_the_same_spans_decode_alike() -> None:
    trace, span = trace_id(), span_id()
    attributes = {"gen_ai.request.model": "gpt-4o", "n": 3}
    from_json = decode(json_traces(json_span(attributes, trace=trace, span=span), service="s"))
    proto = proto_traces(proto_span(attributes, trace=trace, span=span), service="s")
    from_proto = spans_from_request(
        parse_trace_request(proto.SerializeToString(), PROTOBUF),
        project=None,
        default_project="default",
        max_attribute_chars=1000,
    )
    assert from_json.records == from_proto.records


def test_unknown_json_fields_are_ignored() -> None:
    trace, span = trace_id(), span_id()
    document = json_traces(json_span({}, trace=trace, span=span))
    document["futureField"] = {"x": 1}
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["somethingNew"] = "y"
    [decoded] = decode(document).records
    assert decoded.span_id == span


def test_a_long_attribute_value_is_truncated_with_the_marker() -> None:
    long = "x" * 150
    [decoded] = decode(
        json_traces(json_span({"big": long, "small": "ok"}, trace=trace_id(), span=span_id())),
        max_attribute_chars=100,
    ).records
    assert decoded.attributes["big"] == "x" * 100 + TRUNCATION_MARKER.format(50)
    assert decoded.attributes["small"] == "ok"


def test_a_key_project_wins_over_service_name() -> None:
    document = json_traces(json_span({}, trace=trace_id(), span=span_id()), service="other")
    [decoded] = decode(document, project="keyed").records
    assert decoded.project == "keyed"


@pytest.mark.parametrize("service", [None, "", "unknown_service:python"])
def test_without_a_real_service_name_the_default_project_is_used(service: str | None) -> None:
    document = json_traces(json_span({}, trace=trace_id(), span=span_id()), service=service)
    [decoded] = decode(document, default_project="fallback").records
    assert decoded.project == "fallback"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"traceId": "0" * 32}, "trace id must be 16 bytes"),
        ({"spanId": "0" * 16}, "span id must be 8 bytes"),
        ({"startTimeUnixNano": "2000", "endTimeUnixNano": "1000"}, "ends before it starts"),
        ({"startTimeUnixNano": "0"}, "start time is missing"),
    ],
)
def test_invalid_spans_are_rejected_with_a_reason_and_valid_ones_kept(
    change: dict, reason: str
) -> None:
    good = json_span({}, trace=trace_id(), span=span_id(), name="good")
    bad = json_span({}, trace=trace_id(), span=span_id(), name="bad") | change
    decoded = decode(json_traces(good, bad))
    assert [s.name for s in decoded.records] == ["good"]
    [rejection] = decoded.rejected
    assert "'bad'" in rejection
    assert reason in rejection


def test_a_non_hex_id_is_a_payload_error_naming_where() -> None:
    document = json_traces(json_span({}, trace="zz" * 16, span=span_id()))
    with pytest.raises(PayloadError, match=r"resourceSpans\[0\].*traceId.*not a hex id"):
        decode(document)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "must be an object"),
        (b'{"resourceSpans": "nope"}', "invalid OTLP JSON"),
    ],
)
def test_malformed_json_is_a_payload_error(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        parse_trace_request(body, JSON)


def test_malformed_protobuf_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="malformed protobuf ExportTraceServiceRequest"):
        parse_trace_request(b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", JSON),
        ("application/json; charset=utf-8", JSON),
        ("Application/X-Protobuf", PROTOBUF),
    ],
)
def test_media_type_reads_the_bare_type(header: str, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize("header", [None, "text/plain", "application/grpc"])
def test_other_media_types_are_unsupported(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        media_type(header)


def test_genai_log_events_are_kept_and_other_logs_skipped() -> None:
    trace, span = trace_id(), span_id()
    request = proto_logs(
        LogRecord(
            time_unix_nano=1,
            event_name="gen_ai.user.message",
            trace_id=bytes.fromhex(trace),
            span_id=bytes.fromhex(span),
            body=proto_value("hello"),
        ),
        LogRecord(time_unix_nano=1, body=proto_value("an ordinary log line")),
        service="shop",
    )
    decoded = log_events_from_request(
        request, project=None, default_project="default", max_attribute_chars=100
    )
    [event] = decoded.records
    assert (event.name, event.trace_id, event.span_id, event.body) == (
        "gen_ai.user.message",
        trace,
        span,
        "hello",
    )
    assert event.project == "shop"
    assert decoded.rejected == []


def test_a_genai_log_event_without_its_span_is_rejected() -> None:
    request = parse_logs_request(
        orjson.dumps(
            json_logs(
                {"eventName": "gen_ai.choice", "timeUnixNano": "1", "body": {"stringValue": "x"}}
            )
        ),
        JSON,
    )
    decoded = log_events_from_request(
        request, project=None, default_project="default", max_attribute_chars=100
    )
    assert decoded.records == []
    assert decoded.rejected == ["log event 'gen_ai.choice' has no valid trace and span id"]
