"""GET /api/v1/interactions: filters, cursors, one interaction, counts; the OpenAPI schema."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest

from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.pipeline import write_spans
from liveeval.model import Signal, SignalKind, Span
from liveeval.store.database import Store
from liveeval.store.signals import record_signal
from tests.server.asgi import client
from tests.telemetry import (
    T0,
    genai_attributes,
    model_span,
    retriever_attributes,
    span_id,
    trace_id,
)


def save(store: Store, *spans: Span) -> None:
    write_spans(store, spans, AssemblyRules(), T0)


def llm(
    *,
    minutes: int = 0,
    model: str = "gpt-4o-mini",
    served: str = "gpt-4o-mini-2024-07-18",
    prompt: str | None = None,
    route: str | None = None,
    session: str | None = None,
    status: str = "unset",
    project: str = "default",
    trace: str | None = None,
    **extra: Any,
) -> Span:
    attributes = genai_attributes(model=model, served=served, **extra)
    for key, value in (
        ("liveeval.prompt.version", prompt),
        ("liveeval.route", route),
        ("session.id", session),
    ):
        if value is not None:
            attributes[key] = value
    return model_span(
        attributes,
        trace=trace or trace_id(),
        start=T0 + timedelta(minutes=minutes),
        status=status,
        project=project,
    )


async def trace_ids(http: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await http.get("/api/v1/interactions", params=params)
    assert response.status_code == 200, response.text
    return [item["trace_id"] for item in response.json()["items"]]


@pytest.mark.anyio
async def test_each_filter_of_the_list_selects_exactly_its_interactions(store: Store) -> None:
    a = llm(minutes=0, prompt="v1", route="/a", session="s1")
    b = llm(
        minutes=10,
        model="gpt-4o",
        served="gpt-4o-2024-08-06",
        prompt="v2",
        route="/b",
        session="s2",
        status="error",
    )
    c = llm(minutes=20, prompt="v2", route="/a", session="s1", status="ok")
    save(store, a, b, c)
    with store.writing() as conn:
        record_signal(conn, Signal("default", SignalKind.THUMBS_DOWN, T0, trace_id=b.trace_id), T0)
    save(store, b)  # a retry: the pending signal is attached now
    A, B, C = a.trace_id, b.trace_id, c.trace_id
    async with client(store) as http:
        assert await trace_ids(http) == [C, B, A]
        assert await trace_ids(http, since="2026-11-01T12:10:00Z") == [C, B]
        assert await trace_ids(http, until="2026-11-01T12:10:00Z") == [A]
        assert await trace_ids(http, since="2026-11-01T14:05:00+02:00") == [C, B]
        assert await trace_ids(
            http, since="2026-11-01T12:05:00Z", until="2026-11-01T12:15:00Z"
        ) == [B]
        assert await trace_ids(http, model="gpt-4o") == [B]
        assert await trace_ids(http, model="gpt-4o-2024-08-06") == [B]
        assert await trace_ids(http, model="gpt-4o-mini") == [C, A]
        assert await trace_ids(http, prompt_version="v2") == [C, B]
        assert await trace_ids(http, route="/a") == [C, A]
        assert await trace_ids(http, session_id="s1") == [C, A]
        assert await trace_ids(http, status="error") == [B]
        assert await trace_ids(http, status="ok") == [C]
        assert await trace_ids(http, status="unset") == [A]
        assert await trace_ids(http, has_signal="thumbs_down") == [B]
        assert await trace_ids(http, has_signal="thumbs_up") == []
        assert await trace_ids(http, trace_id=A.upper()) == [A]
        assert await trace_ids(http, route="/a", prompt_version="v2") == [C]
        assert await trace_ids(http, project="elsewhere") == []


@pytest.mark.anyio
async def test_cursor_pages_walk_every_row_once_even_with_equal_start_times(store: Store) -> None:
    spans = [llm(minutes=n % 3) for n in range(11)]  # three runs of equal start times
    save(store, *spans)
    seen: list[int] = []
    pages = 0
    async with client(store) as http:
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = (await http.get("/api/v1/interactions", params=params)).json()
            pages += 1
            seen += [item["interaction_id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        everything = (await http.get("/api/v1/interactions", params={"limit": 500})).json()
    assert pages == 6
    assert len(seen) == 11
    assert len(set(seen)) == 11
    assert seen == [item["interaction_id"] for item in everything["items"]]
    assert everything["next_cursor"] is None


@pytest.mark.anyio
async def test_a_page_that_ends_exactly_at_the_last_row_has_no_next_cursor(
    sqlite_store: Store,
) -> None:
    save(sqlite_store, llm(), llm(minutes=1))
    async with client(sqlite_store) as http:
        page = (await http.get("/api/v1/interactions", params={"limit": 2})).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        base64.urlsafe_b64encode(b"yesterday|3").decode(),
        base64.urlsafe_b64encode(b"2026-11-01T12:00:00+00:00|three").decode(),
        base64.urlsafe_b64encode(b"2026-11-01T12:00:00|3").decode(),  # naive
        base64.urlsafe_b64encode(b"2026-11-01T12:00:00+00:00|99999999999999999999").decode(),
    ],
    ids=["garbage", "not-a-time", "not-an-id", "naive-time", "id-out-of-range"],
)
async def test_a_bad_cursor_is_422(sqlite_store: Store, cursor: str) -> None:
    async with client(sqlite_store) as http:
        response = await http.get("/api/v1/interactions", params={"cursor": cursor})
    assert response.status_code == 422
    assert "is not one this API returned" in response.json()["detail"]


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/api/v1/interactions", "/api/v1/interactions/counts"])
@pytest.mark.parametrize("name", ["since", "until"])
async def test_a_naive_datetime_is_422(sqlite_store: Store, path: str, name: str) -> None:
    params = {name: "2026-11-01T12:00:00", "by": "route"}
    async with client(sqlite_store) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", name]
    assert problem["type"] == "timezone_aware"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"has_signal": "love"}, "has_signal"),
        ({"since": "last tuesday"}, "since"),
    ],
)
async def test_invalid_query_parameters_are_422_naming_them(
    sqlite_store: Store, params: dict[str, Any], field: str
) -> None:
    async with client(sqlite_store) as http:
        response = await http.get("/api/v1/interactions", params=params)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]


@pytest.mark.anyio
async def test_one_interaction_comes_with_the_spans_of_its_trace_and_its_signals(
    store: Store,
) -> None:
    trace, root = trace_id(), span_id()
    request = model_span({"liveeval.route": "/ask"}, trace=trace, span=root, name="request")
    retriever = model_span(
        retriever_attributes("Lisbon facts"),
        trace=trace,
        parent=root,
        name="retrieve",
        start=T0 + timedelta(milliseconds=1),
    )
    call = model_span(
        genai_attributes(response_id="r-1"),
        trace=trace,
        parent=root,
        start=T0 + timedelta(milliseconds=2),
    )
    save(store, request, retriever, call)
    async with client(store) as http:
        [item] = (await http.get("/api/v1/interactions")).json()["items"]
        signal = await http.post(
            "/api/v1/signals", json={"kind": "rating", "value": 5, "response_id": "r-1"}
        )
        assert signal.status_code == 201
        response = await http.get(f"/api/v1/interactions/{item['interaction_id']}")
    assert response.status_code == 200
    detail = response.json()
    assert detail["interaction"] == item
    assert detail["interaction"]["span_id"] == call.span_id
    assert [(s["name"], s["span_id"], s["parent_span_id"]) for s in detail["spans"]] == [
        ("request", root, None),
        ("retrieve", retriever.span_id, root),
        ("chat gpt-4o-mini", call.span_id, root),
    ]
    assert detail["spans"][2]["attributes"]["gen_ai.response.id"] == "r-1"
    assert detail["spans"][2]["kind"] == "client"
    assert detail["spans"][2]["duration_ms"] == pytest.approx(250.0)
    [stored_signal] = detail["signals"]
    assert (stored_signal["kind"], stored_signal["value"]) == ("rating", 5.0)
    assert stored_signal["signal_id"] == signal.json()["signal_id"]


@pytest.mark.anyio
@pytest.mark.parametrize("interaction_id", ["0", "99999999999999999999", "x"])
async def test_an_interaction_id_that_cannot_exist_is_422(
    sqlite_store: Store, interaction_id: str
) -> None:
    async with client(sqlite_store) as http:
        response = await http.get(f"/api/v1/interactions/{interaction_id}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "interaction_id"]


@pytest.mark.anyio
async def test_an_unknown_interaction_is_404(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.get("/api/v1/interactions/123456")
    assert response.status_code == 404
    assert response.json() == {"detail": "interaction 123456 does not exist"}


@pytest.mark.anyio
async def test_counts_per_slice(store: Store) -> None:
    save(
        store,
        llm(served="m1", route="/a", status="error"),
        llm(served="m1", route="/a", **{"liveeval.cost.usd": 0.25}),
        llm(served="m1", route="/b", **{"liveeval.cost.usd": 0.5}),
        llm(served="m2", route="/a"),
        llm(served="m2", route="/a", project="other"),
    )
    async with client(store) as http:
        response = await http.get(
            "/api/v1/interactions/counts", params={"by": "model_served,route"}
        )
        filtered = await http.get(
            "/api/v1/interactions/counts", params={"by": "model_served", "route": "/a"}
        )
    assert response.status_code == 200
    counts = response.json()
    assert counts[0] == {
        "slice": {"model_served": "m1", "route": "/a"},
        "count": 2,
        "errors": 1,
        "mean_latency_ms": pytest.approx(250.0),
        "cost_usd": pytest.approx(0.25),
    }
    assert sorted(
        (c["slice"]["model_served"], c["slice"]["route"], c["count"]) for c in counts
    ) == [
        ("m1", "/a", 2),
        ("m1", "/b", 1),
        ("m2", "/a", 1),
    ]
    assert {c["slice"]["model_served"]: c["count"] for c in filtered.json()} == {"m1": 2, "m2": 1}


@pytest.mark.anyio
@pytest.mark.parametrize("by", ["input_text", "", "route,nope"])
async def test_counts_by_an_unknown_slice_is_422(sqlite_store: Store, by: str) -> None:
    async with client(sqlite_store) as http:
        response = await http.get("/api/v1/interactions/counts", params={"by": by})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("by: unknown slice")


@pytest.mark.anyio
async def test_the_openapi_schema_lists_the_api(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert {
        "/v1/traces",
        "/v1/logs",
        "/api/v1/signals",
        "/api/v1/signals/batch",
        "/api/v1/interactions",
        "/api/v1/interactions/counts",
        "/api/v1/interactions/{interaction_id}",
    } <= set(schema["paths"])
    list_parameters = {
        p["name"] for p in schema["paths"]["/api/v1/interactions"]["get"]["parameters"]
    }
    assert {
        "since",
        "until",
        "model",
        "prompt_version",
        "route",
        "session_id",
        "status",
        "has_signal",
        "cursor",
        "limit",
        "project",
    } <= list_parameters
    assert "SignalResult" in schema["components"]["schemas"]
