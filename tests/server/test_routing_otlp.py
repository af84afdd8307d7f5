"""Decisions recorded at ingest from the SDK's `route <task>` spans, sent by the real
OpenTelemetry SDK exporter to a real server on SQLite and PostgreSQL; a span whose
decision attributes are malformed is stored all the same, and no decision is made of it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from liveeval.store.database import Store
from liveeval.store.routing import decisions_between
from liveeval.store.schema import spans
from tests.conftest import RunningServer
from tests.server.asgi import client
from tests.telemetry import genai_attributes, json_span, json_traces, span_id, trace_id

DECISION = "0123456789abcdef0123456789abcdef"
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


def route_attributes(**changes: object) -> dict[str, object]:
    attributes: dict[str, object] = {
        "liveeval.routing.task": "support_answer",
        "liveeval.routing.arm": "strong",
        "liveeval.routing.probability": 0.75,
        "liveeval.routing.policy_version": 1_765_000_000_000,
        "liveeval.routing.decision_id": DECISION,
        "liveeval.routing.slice": "language=de",
        "liveeval.routing.session_id": "s-1",
        "liveeval.routing.goal_id": "g-1",
        "liveeval.routing.context.language": "de",
        "liveeval.routing.context.segment": "pro",
    }
    attributes.update(changes)
    return {key: value for key, value in attributes.items() if value is not None}


def test_a_route_span_records_its_decision_once(
    live_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "bookshop"}))
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("liveeval.sdk")
    bad = "fedcba9876543210fedcba9876543210"
    with caplog.at_level(logging.WARNING, logger="liveeval.ingest.decisions"):
        with tracer.start_as_current_span("route support_answer", attributes=route_attributes()):
            pass
        with tracer.start_as_current_span("route support_answer", attributes=route_attributes()):
            pass  # the same decision id again: stored once
        malformed = route_attributes(
            **{"liveeval.routing.probability": 1.5, "liveeval.routing.decision_id": bad}
        )
        with tracer.start_as_current_span("route support_answer", attributes=malformed) as span:
            malformed_trace = format(span.get_span_context().trace_id, "032x")
        provider.shutdown()
    store = live_server.store
    with store.reading() as conn:
        found = decisions_between(conn, "bookshop", "support_answer", EARLIEST, LATEST)
        stored = conn.execute(sa.select(spans.c.trace_id)).scalars().all()
    [decision] = found
    assert (decision.decision_id, decision.arm, decision.probability) == (DECISION, "strong", 0.75)
    assert (decision.policy_version, decision.slice) == (1_765_000_000_000, "language=de")
    assert decision.context == {"language": "de", "segment": "pro"}
    assert (decision.session_id, decision.goal_id) == ("s-1", "g-1")
    assert decision.trace_id is not None and len(decision.trace_id) == 32
    assert len(stored) == 3 and malformed_trace in stored
    assert "liveeval.routing.probability must be a number in (0, 1], got 1.5" in caplog.text


@pytest.mark.anyio
async def test_a_malformed_decision_is_a_partial_success_warning(store: Store) -> None:
    trace = trace_id()
    bad = route_attributes(**{"liveeval.routing.policy_version": "seven"})
    good = route_attributes(**{"liveeval.routing.decision_id": "ab" * 16})
    document = json_traces(
        json_span(bad, trace=trace, span=span_id(), name="route support_answer"),
        json_span(good, trace=trace, span=span_id(), name="route support_answer"),
    )
    async with client(store) as http:
        response = await http.post(
            "/v1/traces",
            content=orjson.dumps(document),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial.get("rejectedSpans", "0") in (0, "0")
    assert (
        "liveeval.routing.policy_version must be an integer, got 'seven'"
        in (partial["errorMessage"])
    )
    with store.reading() as conn:
        found = decisions_between(conn, "default", "support_answer", EARLIEST, LATEST)
        stored = conn.execute(sa.select(sa.func.count()).select_from(spans)).scalar_one()
    assert [d.decision_id for d in found] == ["ab" * 16] and stored == 2


@pytest.mark.anyio
async def test_an_outcome_posted_before_its_spans_attaches_to_the_routed_call(
    store: Store,
) -> None:
    trace, route = trace_id(), span_id()
    document = json_traces(
        json_span(route_attributes(), trace=trace, span=route, name="route support_answer"),
        json_span(genai_attributes(), trace=trace, span=span_id(), parent=route),
    )
    async with client(store) as http:
        outcome = {"decision_id": DECISION, "success": False, "error": "wrong order id"}
        posted = await http.post("/api/v1/routing/outcomes", json={"outcomes": [outcome]})
        assert posted.status_code == 202
        sent = await http.post(
            "/v1/traces",
            content=orjson.dumps(document),
            headers={"content-type": "application/json"},
        )
        assert sent.status_code == 200 and "partialSuccess" not in sent.json()
        listed = await http.get("/api/v1/interactions", params={"trace_id": trace})
        [item] = listed.json()["items"]
        shown = await http.get(f"/api/v1/interactions/{item['interaction_id']}")
    [signal] = shown.json()["signals"]
    assert (signal["kind"], signal["value"], signal["text"]) == ("outcome", 0.0, "wrong order id")
