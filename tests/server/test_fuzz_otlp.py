"""/v1/traces and /v1/logs under a corpus of bad bodies, on SQLite and PostgreSQL.

Random and mutated protobuf, random JSON, deep nesting, huge values, invalid UTF-8,
NUL, lone surrogates and bombs. Each answer must be 200 or a declared 4xx, in the
encoding the request came in, and must parse as what OTLP says it is. Valid spans
sent beside bad values are kept. Derandomised for CI; LIVEEVAL_FUZZ_EXAMPLES looks
further.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import hypothesis.strategies as st
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from liveeval.config import Settings
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.schema import interactions
from tests.conftest import Clock
from tests.fuzzing import EXAMPLES, fuzz_settings
from tests.telemetry import (
    chat_attributes,
    genai_attributes,
    json_span,
    json_traces,
    proto_span,
    proto_traces,
    span_id,
    trace_id,
)

PB = "application/x-protobuf"
JS = "application/json"
DECLARED = {200, 400, 413, 415}
FUZZ = fuzz_settings(EXAMPLES * 4)


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    settings = Settings(db=str(store.engine.url), evaluation="off", max_body_bytes=1_000_000)
    app = create_app(settings, store, clock=Clock())
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def post(http: TestClient, path: str, body: bytes, kind: str, **headers: str) -> Any:
    """POST and check the answer is declared and well-formed; returns the response."""
    response = http.post(path, content=body, headers={"content-type": kind, **headers})
    assert response.status_code in DECLARED, (response.status_code, response.text[:300])
    answer_kind = response.headers["content-type"]
    if response.status_code == 200:
        message = (
            ExportTraceServiceResponse() if path == "/v1/traces" else ExportLogsServiceResponse()
        )
        if answer_kind == PB:
            message.ParseFromString(response.content)
        else:
            assert answer_kind == JS
            assert isinstance(response.json(), dict)
    elif answer_kind == PB:
        status_pb2.Status().ParseFromString(response.content)
    else:
        document = response.json()
        assert isinstance(document.get("message", document.get("detail")), str), document
    return response


def stored(store: Store) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(interactions)).scalar_one()


def valid_request() -> bytes:
    spans = [
        proto_span(
            chat_attributes(f"question {n}", f"answer {n}"), trace=trace_id(), span=span_id()
        )
        for n in range(3)
    ]
    return proto_traces(*spans, service="fuzz").SerializeToString()


# -- generated bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs"])
def test_random_bytes_are_answered_4xx(http: TestClient, path: str) -> None:
    @FUZZ
    @hypothesis.given(body=st.binary(max_size=2_000))
    def random_bytes(body: bytes) -> None:
        post(http, path, body, PB)

    random_bytes()


def test_mutated_protobuf_is_answered_and_never_a_5xx(http: TestClient) -> None:
    original = valid_request()

    @FUZZ
    @hypothesis.given(
        edits=st.lists(
            st.tuples(
                st.integers(0, len(original) - 1), st.integers(0, 255), st.sampled_from("sid")
            ),
            min_size=1,
            max_size=8,
        )
    )
    def mutated(edits: list[tuple[int, int, str]]) -> None:
        body = bytearray(original)
        for at, byte, how in edits:
            at = min(at, len(body) - 1)
            if how == "s":
                body[at] = byte
            elif how == "i":
                body.insert(at, byte)
            elif len(body) > 1:
                del body[at]
        post(http, "/v1/traces", bytes(body), PB)

    mutated()


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
OTLP_KEYS = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "traceId",
        "spanId",
        "attributes",
        "key",
        "value",
        "stringValue",
        "intValue",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "name",
        "status",
        "events",
    ]
)


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs"])
def test_random_json_is_answered_and_never_a_5xx(http: TestClient, path: str) -> None:
    shaped = st.recursive(
        JSON_VALUES,
        lambda inner: st.dictionaries(OTLP_KEYS, inner, max_size=5) | st.lists(inner, max_size=3),
        max_leaves=30,
    )

    @FUZZ
    @hypothesis.given(document=shaped)
    def random_json(document: Any) -> None:
        post(http, path, json.dumps(document).encode(), JS)

    random_json()


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs"])
def test_random_compressed_bodies_are_answered_and_never_a_5xx(http: TestClient, path: str) -> None:
    @FUZZ
    @hypothesis.given(
        body=st.binary(max_size=500),
        encoding=st.sampled_from(["gzip", "deflate", "br", "gzip, gzip"]),
    )
    def compressed(body: bytes, encoding: str) -> None:
        post(http, path, body, PB, **{"content-encoding": encoding})

    compressed()


# -- a corpus of known-bad bodies ----------------------------------------------------------


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, encoded by hand: the SDK refuses to build
    messages nested deeper than the decoder accepts."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append(n & 0x7F | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _nested_attribute(depth: int) -> bytes:
    """A request whose one span has an attribute `depth` kvlists deep."""
    value = _field(1, b"bottom")  # AnyValue.string_value
    for _ in range(depth):
        value = _field(6, _field(1, _field(1, b"k") + _field(2, value)))  # kvlist_value
    span = proto_span(genai_attributes(), trace=trace_id(), span=span_id()).SerializeToString()
    span += _field(9, _field(1, b"odd") + _field(2, value))  # Span.attributes
    return _field(1, _field(2, _field(2, span)))  # resource_spans.scope_spans.spans


def _with_attribute(value: AnyValue) -> bytes:
    span = proto_span(genai_attributes(), trace=trace_id(), span=span_id())
    span.attributes.append(KeyValue(key="odd", value=value))
    return proto_traces(span).SerializeToString()


def _invalid_utf8_string() -> bytes:
    marker = "MARKERMARKER"
    body = proto_traces(proto_span({"note": marker}, trace=trace_id(), span=span_id()))
    return body.SerializeToString().replace(marker.encode(), b"\xff\xfe\xfd" + b"A" * 9)


CORPUS = {
    "empty body": (b"", PB),
    "empty json": (b"", JS),
    "json array": (b"[]", JS),
    "json null": (b"null", JS),
    "deeply nested json": (b"[" * 100_000 + b"]" * 100_000, JS),
    "deeply nested json objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, JS),
    "deeply nested attribute": (_nested_attribute(200), PB),
    "an attribute nested as deep as allowed": (_nested_attribute(30), PB),
    "invalid utf-8 in a string": (_invalid_utf8_string(), PB),
    "truncated protobuf": (valid_request()[:-7], PB),
    "protobuf sent as json": (valid_request(), JS),
    "json sent as protobuf": (orjson.dumps(json_traces()), PB),
    "a huge string attribute": (_with_attribute(AnyValue(string_value="x" * 900_000)), PB),
    "many attributes": (
        proto_traces(
            proto_span({f"k{n}": n for n in range(20_000)}, trace=trace_id(), span=span_id())
        ).SerializeToString(),
        PB,
    ),
    "a lone surrogate in json": (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
        b'"spanId":"eee19b7ec3c1b174","name":"a\\ud800b","startTimeUnixNano":"1"}]}]}]}',
        JS,
    ),
    "huge ints in json": (
        orjson.dumps(
            json_traces(json_span({"n": 2**62}, trace=trace_id(), span=span_id()))
        ).replace(str(2**62).encode(), b"99999999999999999999999"),
        JS,
    ),
}


@pytest.mark.parametrize("case", list(CORPUS), ids=list(CORPUS))
def test_known_bad_bodies_are_answered_4xx_or_kept(http: TestClient, case: str) -> None:
    body, kind = CORPUS[case]
    post(http, "/v1/traces", body, kind)
    post(http, "/v1/logs", body, kind)


def test_a_gzip_bomb_is_413_and_stores_nothing(http: TestClient, store: Store) -> None:
    bomb = gzip.compress(b"\x00" * 50_000_000)
    response = post(http, "/v1/traces", bomb, PB, **{"content-encoding": "gzip"})
    assert response.status_code == 413
    assert stored(store) == 0


def test_timestamps_at_the_edge_of_uint64_are_kept(http: TestClient, store: Store) -> None:
    span = proto_span(genai_attributes(), trace=trace_id(), span=span_id())
    span.start_time_unix_nano = 2**64 - 2
    span.end_time_unix_nano = 2**64 - 1
    response = post(http, "/v1/traces", proto_traces(span).SerializeToString(), PB)
    assert response.status_code == 200
    assert stored(store) == 1


@pytest.mark.parametrize("tokens", [1e308, "1e30", 2**40, -5, "many"])
def test_an_absurd_token_count_is_unknown_and_its_batch_is_kept(
    http: TestClient, store: Store, tokens: Any
) -> None:
    odd = json_span(genai_attributes(input_tokens=None), trace=trace_id(), span=span_id())
    odd["attributes"].append(
        {
            "key": "gen_ai.usage.input_tokens",
            "value": (
                {"doubleValue": tokens}
                if isinstance(tokens, float)
                else {"stringValue": tokens}
                if isinstance(tokens, str)
                else {"intValue": str(tokens)}
            ),
        }
    )
    fine = json_span(genai_attributes(input_tokens=7), trace=trace_id(), span=span_id())
    response = post(http, "/v1/traces", orjson.dumps(json_traces(odd, fine)), JS)
    assert response.status_code == 200
    with store.reading() as conn:
        counts = sorted(
            conn.execute(sa.select(interactions.c.input_tokens)).scalars(), key=lambda n: n or 0
        )
    assert counts == [None, 7]


def test_nul_in_every_text_is_kept_and_found_by_its_filters(http: TestClient) -> None:
    attributes = chat_attributes("q\x00uestion", "ans\x00wer", **{"session.id": "s\x00"})
    span = json_span(attributes, trace=trace_id(), span=span_id(), name="chat\x00x")
    response = post(http, "/v1/traces", orjson.dumps(json_traces(span, service="nul\x00")), JS)
    assert response.status_code == 200
    listed = http.get("/api/v1/interactions", params={"project": "nul\x00"})
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    # PostgreSQL cannot hold NUL: it keeps U+FFFD in its place; SQLite keeps the NUL.
    assert item["session_id"] in ("s\x00", "s\ufffd")
    by_session = http.get(
        "/api/v1/interactions", params={"project": "nul\x00", "session_id": "s\x00"}
    )
    assert [i["interaction_id"] for i in by_session.json()["items"]] == [item["interaction_id"]]
