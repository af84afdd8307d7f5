"""/v1/traces and /v1/logs in-process: encodings, the spec's responses, and bad input."""

from __future__ import annotations

import gzip
import zlib
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from liveeval.config import Settings
from liveeval.ingest.otlp import TRUNCATION_MARKER
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.schema import interactions, log_events, spans
from tests.conftest import Clock
from tests.server.asgi import HOST, client
from tests.telemetry import (
    T0,
    genai_attributes,
    json_log_record,
    json_logs,
    json_span,
    json_traces,
    proto_span,
    proto_traces,
    retriever_attributes,
    span_id,
    trace_id,
)

PB = {"content-type": "application/x-protobuf"}
JS = {"content-type": "application/json"}


async def listed(http: httpx.AsyncClient, project: str = "default") -> list[dict[str, Any]]:
    response = await http.get("/api/v1/interactions", params={"project": project})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def rows(store: Store, table: sa.Table) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def one_llm_span_json(**attributes: Any) -> tuple[str, dict[str, Any]]:
    trace = trace_id()
    document = json_traces(
        json_span(genai_attributes(**attributes), trace=trace, span=span_id()), service="shop"
    )
    return trace, document


def status_of(response: httpx.Response) -> status_pb2.Status:
    """The google.rpc.Status of an OTLP failure, in the encoding it came in."""
    status = status_pb2.Status()
    if response.headers["content-type"] == "application/x-protobuf":
        status.ParseFromString(response.content)
    else:
        document = response.json()
        status.code = document.get("code", 0)
        status.message = document.get("message", "")
    return status


# -- accepted exports ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_otlp_json_export_is_answered_in_json_and_stored(store: Store) -> None:
    trace, root, llm = trace_id(), span_id(), span_id()
    document = json_traces(
        json_span({"liveeval.route": "/ask"}, trace=trace, span=root, name="request"),
        json_span(retriever_attributes("doc text"), trace=trace, span=span_id(), parent=root),
        json_span(
            genai_attributes(response_id="chatcmpl-7", input_tokens=31, output_tokens=9),
            trace=trace,
            span=llm,
            parent=root,
            start=T0 + timedelta(milliseconds=50),
        ),
        service="shop",
    )
    async with client(store) as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {}
        [item] = await listed(http, "shop")
    assert item["trace_id"] == trace
    assert item["span_id"] == llm
    assert item["project"] == "shop"
    assert item["model_requested"] == "gpt-4o-mini"
    assert item["model_served"] == "gpt-4o-mini-2024-07-18"
    assert item["response_id"] == "chatcmpl-7"
    assert item["usage"]["input_tokens"] == 31
    assert item["usage"]["output_tokens"] == 9
    assert item["route"] == "/ask"
    assert [d["content"] for d in item["retrieved_context"]] == ["doc text"]
    assert item["latency_ms"] == pytest.approx(250.0)


@pytest.mark.anyio
async def test_a_protobuf_export_is_answered_in_protobuf(store: Store) -> None:
    trace = trace_id()
    request = proto_traces(
        proto_span(genai_attributes(), trace=trace, span=span_id()), service="shop"
    )
    async with client(store) as http:
        response = await http.post("/v1/traces", content=request.SerializeToString(), headers=PB)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-protobuf"
        answer = ExportTraceServiceResponse.FromString(response.content)
        assert not answer.HasField("partial_success")
        assert [i["trace_id"] for i in await listed(http, "shop")] == [trace]


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


@pytest.mark.anyio
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("kind", ["json", "protobuf"])
async def test_compressed_bodies_are_inflated(
    sqlite_store: Store, encoding: str, kind: str
) -> None:
    trace = trace_id()
    if kind == "json":
        body = orjson.dumps(json_traces(json_span(genai_attributes(), trace=trace, span=span_id())))
        headers = dict(JS)
    else:
        body = proto_traces(
            proto_span(genai_attributes(), trace=trace, span=span_id())
        ).SerializeToString()
        headers = dict(PB)
    headers["content-encoding"] = encoding
    compress = _gzip if encoding == "gzip" else _deflate
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=compress(body), headers=headers)
        assert response.status_code == 200, response.text
        assert [i["trace_id"] for i in await listed(http)] == [trace]


@pytest.mark.anyio
async def test_unknown_json_fields_are_ignored(sqlite_store: Store) -> None:
    trace, document = one_llm_span_json()
    document["newTopLevel"] = [1, 2]
    document["resourceSpans"][0]["schemaUrl"] = "https://example.com/schema"
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["futureField"] = {"a": 1}
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
        assert response.status_code == 200
        assert [i["trace_id"] for i in await listed(http, "shop")] == [trace]


@pytest.mark.anyio
async def test_a_retried_export_creates_no_duplicates(store: Store) -> None:
    body = proto_traces(
        proto_span(genai_attributes(), trace=trace_id(), span=span_id())
    ).SerializeToString()
    async with client(store) as http:
        for _ in range(3):
            assert (await http.post("/v1/traces", content=body, headers=PB)).status_code == 200
        assert len(await listed(http)) == 1
    assert rows(store, spans) == 1
    assert rows(store, interactions) == 1


# -- partial success -----------------------------------------------------------------------


def _mixed_spans(trace: str) -> list[dict[str, Any]]:
    good = json_span(genai_attributes(), trace=trace, span=span_id(), name="good")
    zero_trace = json_span(genai_attributes(), trace="0" * 32, span=span_id(), name="zero-trace")
    backwards = json_span(genai_attributes(), trace=trace_id(), span=span_id(), name="backwards")
    backwards["endTimeUnixNano"] = str(int(backwards["startTimeUnixNano"]) - 1)
    return [good, zero_trace, backwards]


@pytest.mark.anyio
async def test_invalid_spans_are_reported_as_partial_success_in_json(store: Store) -> None:
    trace = trace_id()
    async with client(store) as http:
        response = await http.post(
            "/v1/traces", content=orjson.dumps(json_traces(*_mixed_spans(trace))), headers=JS
        )
        assert response.status_code == 200
        partial = response.json()["partialSuccess"]
        assert partial["rejectedSpans"] == "2"  # int64 is a string in OTLP/JSON
        assert "'zero-trace': trace id must be 16 bytes, not all zero" in partial["errorMessage"]
        assert "'backwards': ends before it starts" in partial["errorMessage"]
        assert [i["trace_id"] for i in await listed(http)] == [trace]
    assert rows(store, spans) == 1


@pytest.mark.anyio
async def test_invalid_spans_are_reported_as_partial_success_in_protobuf(
    sqlite_store: Store,
) -> None:
    trace = trace_id()
    good = proto_span(genai_attributes(), trace=trace, span=span_id(), name="good")
    bad = proto_span(genai_attributes(), trace=trace_id(), span=span_id(), name="bad")
    bad.end_time_unix_nano = bad.start_time_unix_nano - 1
    async with client(sqlite_store) as http:
        response = await http.post(
            "/v1/traces", content=proto_traces(good, bad).SerializeToString(), headers=PB
        )
        assert response.status_code == 200
        answer = ExportTraceServiceResponse.FromString(response.content)
        assert answer.partial_success.rejected_spans == 1
        assert answer.partial_success.error_message == "span 'bad': ends before it starts"
        assert [i["trace_id"] for i in await listed(http)] == [trace]


# -- rejected requests ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_malformed_protobuf_is_400_with_a_status_in_protobuf(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=b"\x0a\xff\xff\xff\xff\x0f", headers=PB)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-protobuf"
    status = status_pb2.Status.FromString(response.content)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message.startswith("malformed protobuf ExportTraceServiceRequest")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"resourceSpans": [', "malformed JSON"),
        (b'"just a string"', "the JSON body must be an object, not str"),
        (b'{"resourceSpans": [{"scopeSpans": 5}]}', "invalid OTLP JSON"),
    ],
)
async def test_malformed_json_is_400_naming_the_problem(
    sqlite_store: Store, body: bytes, problem: str
) -> None:
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=body, headers=JS)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    status = status_of(response)
    assert status.code == code_pb2.INVALID_ARGUMENT
    assert status.message.startswith(problem)


@pytest.mark.anyio
async def test_a_bad_hex_id_is_400_naming_where(sqlite_store: Store) -> None:
    _, document = one_llm_span_json()
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "not-hex!"
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
    assert response.status_code == 400
    assert status_of(response).message == (
        "$.resourceSpans[0].scopeSpans[0].spans[0].spanId: 'not-hex!' is not a hex id"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", ["text/plain", "application/grpc", None])
async def test_an_unsupported_content_type_is_415(
    sqlite_store: Store, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with client(sqlite_store) as http:
        response = await http.post("/v1/traces", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert "unsupported content type" in status_of(response).message


@pytest.mark.anyio
async def test_an_unsupported_content_encoding_is_415(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post(
            "/v1/traces", content=b"{}", headers={**JS, "content-encoding": "br"}
        )
    assert response.status_code == 415
    assert status_of(response).message.startswith("unsupported Content-Encoding 'br'")


@pytest.mark.anyio
async def test_a_body_over_the_limit_is_413(sqlite_store: Store) -> None:
    _, document = one_llm_span_json(padding="p" * 5_000)
    async with client(sqlite_store, max_body_bytes=4_096) as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
    assert response.status_code == 413
    assert status_of(response).code == code_pb2.RESOURCE_EXHAUSTED
    assert rows(sqlite_store, spans) == 0


@pytest.mark.anyio
async def test_a_gzip_bomb_is_413(sqlite_store: Store) -> None:
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 64 * 1024
    async with client(sqlite_store, max_body_bytes=1024 * 1024) as http:
        response = await http.post(
            "/v1/traces", content=bomb, headers={**PB, "content-encoding": "gzip"}
        )
    assert response.status_code == 413
    assert "after decompression" in status_of(response).message


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [b"this is not gzip at all", gzip.compress(b'{"resourceSpans": []}')[:-12]],
    ids=["garbage", "truncated"],
)
async def test_corrupt_gzip_is_400(sqlite_store: Store, body: bytes) -> None:
    async with client(sqlite_store) as http:
        response = await http.post(
            "/v1/traces", content=body, headers={**JS, "content-encoding": "gzip"}
        )
    assert response.status_code == 400
    assert status_of(response).message.startswith("body is not valid")


@pytest.mark.anyio
async def test_an_oversized_attribute_is_stored_truncated_not_rejected(store: Store) -> None:
    long = "é" * 300
    trace, document = one_llm_span_json(note=long)
    async with client(store, max_attribute_chars=100) as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
        assert response.status_code == 200
        assert response.json() == {}
        [item] = await listed(http, "shop")
        detail = (await http.get(f"/api/v1/interactions/{item['interaction_id']}")).json()
    [span] = detail["spans"]
    assert span["trace_id"] == trace
    assert span["attributes"]["note"] == "é" * 100 + TRUNCATION_MARKER.format(200)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PB),
        (b"{broken", JS),
        (b"x" * 10_000, JS),
        (b"not gzip", {**JS, "content-encoding": "gzip"}),
    ],
    ids=["bad-protobuf", "bad-json", "too-large", "bad-gzip"],
)
async def test_a_rejected_request_stores_nothing_and_keeps_earlier_data(
    store: Store, body: bytes, headers: dict[str, str]
) -> None:
    trace, earlier = one_llm_span_json()
    async with client(store, max_body_bytes=8_192) as http:
        assert (
            await http.post("/v1/traces", content=orjson.dumps(earlier), headers=JS)
        ).status_code == 200
        before = await listed(http, "shop")
        response = await http.post("/v1/traces", content=body, headers=headers)
        assert response.status_code in (400, 413)
        assert await listed(http, "shop") == before
    assert [i["trace_id"] for i in before] == [trace]
    assert rows(store, spans) == 1


@pytest.mark.anyio
async def test_a_request_with_one_bad_id_stores_none_of_its_valid_spans(
    sqlite_store: Store,
) -> None:
    valid = json_span(genai_attributes(), trace=trace_id(), span=span_id())
    bad = json_span(genai_attributes(), trace="xyz", span=span_id())
    async with client(sqlite_store) as http:
        response = await http.post(
            "/v1/traces", content=orjson.dumps(json_traces(valid, bad)), headers=JS
        )
        assert response.status_code == 400
        assert await listed(http) == []
    assert rows(sqlite_store, spans) == 0


@pytest.mark.anyio
async def test_an_overloaded_store_answers_503_with_retry_after(sqlite_store: Store) -> None:
    _, document = one_llm_span_json()
    app = create_app(
        Settings(max_pending_writes=1, allowed_hosts=[HOST]), sqlite_store, clock=Clock()
    )
    app.state.write_gate.in_flight = 1  # one write already waiting
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as http:
        response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert status_of(response).code == code_pb2.UNAVAILABLE


# -- /v1/logs ------------------------------------------------------------------------------


def _genai_events(trace: str, llm: str) -> dict[str, Any]:
    return json_logs(
        json_log_record(
            "gen_ai.user.message", trace=trace, span=llm, body={"content": "Capital of Peru?"}
        ),
        json_log_record(
            "gen_ai.choice",
            trace=trace,
            span=llm,
            body={"index": 0, "finish_reason": "stop", "message": {"content": "Lima."}},
        ),
        service="shop",
    )


@pytest.mark.anyio
@pytest.mark.parametrize("logs_first", [True, False])
async def test_genai_log_events_fill_the_interaction_whichever_comes_first(
    store: Store, logs_first: bool
) -> None:
    trace, llm = trace_id(), span_id()
    traces = orjson.dumps(
        json_traces(json_span(genai_attributes(), trace=trace, span=llm), service="shop")
    )
    logs = orjson.dumps(_genai_events(trace, llm))
    async with client(store) as http:
        for path, body in (
            [("/v1/logs", logs), ("/v1/traces", traces)]
            if logs_first
            else [("/v1/traces", traces), ("/v1/logs", logs)]
        ):
            response = await http.post(path, content=body, headers=JS)
            assert response.status_code == 200
            assert response.json() == {}
        [item] = await listed(http, "shop")
    assert item["input_text"] == "Capital of Peru?"
    assert item["output_text"] == "Lima."
    assert item["finish_reasons"] == ["stop"]


@pytest.mark.anyio
async def test_a_genai_log_event_without_ids_is_a_rejected_log_record(sqlite_store: Store) -> None:
    record = json_log_record("gen_ai.choice", trace=trace_id(), span=span_id(), body="x")
    del record["traceId"], record["spanId"]
    ordinary = {"timeUnixNano": "1", "body": {"stringValue": "plain log line"}}
    async with client(sqlite_store) as http:
        response = await http.post(
            "/v1/logs", content=orjson.dumps(json_logs(record, ordinary)), headers=JS
        )
    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {
            "rejectedLogRecords": "1",
            "errorMessage": "log event 'gen_ai.choice' has no valid trace and span id",
        }
    }
    assert rows(sqlite_store, log_events) == 0


@pytest.mark.anyio
async def test_logs_are_answered_in_protobuf_when_sent_in_protobuf(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post("/v1/logs", content=b"", headers=PB)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert ExportLogsServiceResponse.FromString(response.content) == ExportLogsServiceResponse()


def test_the_json_builders_of_these_tests_write_valid_otlp_json() -> None:
    """The JSON builders write what the OTLP/JSON spec says (checked against json_format)."""
    _, document = one_llm_span_json()
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert isinstance(span["startTimeUnixNano"], str)
    assert span["kind"] == 3
    span = {**span, "traceId": "AA==", "spanId": "AA=="}  # base64 for json_format's own reader
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0] = span
    json_format.ParseDict(document, ExportTraceServiceRequest())
