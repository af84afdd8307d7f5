"""The REST API fuzzed from its own OpenAPI schema (schemathesis), on SQLite and PostgreSQL.

Every operation gets generated requests, valid and not: no answer may be a 5xx, and
every answer must be one the schema declares, in the shape it declares. The runs are
derandomised so CI sees the same requests each time; set LIVEEVAL_FUZZ_EXAMPLES to
look further locally.
"""

from __future__ import annotations

import hypothesis
import hypothesis.strategies as st
import orjson
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from liveeval.config import Settings
from liveeval.server import create_app
from liveeval.store.database import Store
from tests.conftest import Clock
from tests.fuzzing import fuzz_settings
from tests.telemetry import chat_attributes, json_span, json_traces, span_id, trace_id

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _seed(http: TestClient) -> None:
    """A few interactions, so that ids 1, 2, 3 and the project `default` exist."""
    spans = [
        json_span(chat_attributes(f"question {n}", f"answer {n}"), trace=trace_id(), span=span_id())
        for n in range(3)
    ]
    response = http.post(
        "/v1/traces",
        content=orjson.dumps(json_traces(*spans)),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) the schema declares; the schema does not depend on the store."""
    app = create_app(Settings(db="sqlite://"), Store.__new__(Store), clock=Clock())
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_request_gets_a_5xx_or_an_undeclared_answer(
    store: Store, method: str, path: str
) -> None:
    app = create_app(
        Settings(db=str(store.engine.url), evaluation="off", allowed_hosts=["testserver"]),
        store,
        clock=Clock(),
    )
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as http:
        _seed(http)
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]

    valid_and_not = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @hypothesis.given(case=valid_and_not)
    @fuzz_settings()
    def requests_are_answered(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    requests_are_answered()
