"""Inputs that once answered 500, on SQLite and PostgreSQL: each is now a 4xx that says
what is wrong, or is kept, and loses nothing else."""

from __future__ import annotations

import gzip
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.server.params import MAX_ID
from liveeval.store.database import Store
from liveeval.store.schema import scores, signals
from tests.conftest import run_server
from tests.server.asgi import client
from tests.telemetry import genai_attributes, json_span, json_traces, span_id, trace_id

pytestmark = pytest.mark.anyio

JS = {"content-type": "application/json"}
TOOL_CALL_ONLY = [
    {
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": "c1", "name": "refund_lookup", "arguments": {"order": 7}}
        ],
    }
]


async def one_interaction(http: httpx.AsyncClient, **attributes: Any) -> str:
    trace = trace_id()
    document = json_traces(
        json_span(genai_attributes(**attributes), trace=trace, span=span_id()), service="shop"
    )
    response = await http.post("/v1/traces", content=orjson.dumps(document), headers=JS)
    assert response.status_code == 200, response.text
    return trace


def count(store: Store, table: sa.Table) -> int:
    with store.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


async def test_a_tool_call_only_answer_is_listed_with_the_tool_it_called(store: Store) -> None:
    async with client(store) as http:
        await one_interaction(
            http,
            **{
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": "refund?"}]}]
                ),
                "gen_ai.output.messages": json.dumps(TOOL_CALL_ONLY),
            },
        )
        listed = await http.get("/ui/interactions", params={"project": "shop"})
        shown = await http.get("/ui/interactions/1")
    assert listed.status_code == 200
    assert "→ refund_lookup(" in listed.text
    assert shown.status_code == 200
    assert "→ refund_lookup(" in shown.text


SIGNAL_TEXTS = [
    ("thumbs_down", "comment"),
    ("comment", "text"),
    ("thumbs_up", "idempotency_key"),
    ("thumbs_up", "user_id"),
    ("report", "reason"),
]


@pytest.mark.parametrize(("kind", "field"), SIGNAL_TEXTS)
async def test_a_lone_surrogate_in_a_signal_is_a_422_naming_the_field(
    store: Store, kind: str, field: str
) -> None:
    async with client(store) as http:
        trace = await one_interaction(http)
        extra = ', "text": "fine"' if kind == "comment" and field != "text" else ""
        body = f'{{"trace_id": "{trace}", "kind": "{kind}", "{field}": "a\\ud800b"{extra}}}'
        response = await http.post("/api/v1/signals", content=body, headers=JS)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert "surrogate" in problem["msg"]
    assert count(store, signals) == 0


async def test_a_lone_surrogate_in_metadata_keys_or_batches_is_a_422(store: Store) -> None:
    async with client(store) as http:
        trace = await one_interaction(http)
        in_key = f'{{"trace_id": "{trace}", "kind": "thumbs_up", "metadata": {{"\\udfff": 1}}}}'
        in_batch = (
            f'{{"signals": [{{"trace_id": "{trace}", "kind": "thumbs_up"}},'
            f' {{"trace_id": "{trace}", "kind": "thumbs_up", "metadata": {{"a": ["\\ud83d"]}}}}]}}'
        )
        keyed = await http.post("/api/v1/signals", content=in_key, headers=JS)
        batched = await http.post("/api/v1/signals/batch", content=in_batch, headers=JS)
        emoji = f'{{"trace_id": "{trace}", "kind": "thumbs_down", "comment": "\\ud83d\\ude00"}}'
        paired = await http.post("/api/v1/signals", content=emoji, headers=JS)
    assert keyed.status_code == 422
    assert keyed.json()["detail"][0]["loc"] == ["body", "metadata", "\ufffd"]
    assert batched.status_code == 422
    assert batched.json()["detail"][0]["loc"] == ["body", "signals", 1, "metadata", "a", 0]
    assert paired.status_code == 201, paired.text  # a surrogate pair is an emoji, and fine
    assert count(store, signals) == 1


@pytest.mark.parametrize("field", ["label", "author", "explanation", "idempotency_key"])
async def test_a_lone_surrogate_in_a_score_is_a_422_naming_the_field(
    store: Store, field: str
) -> None:
    async with client(store) as http:
        trace = await one_interaction(http)
        body = (
            f'{{"trace_id": "{trace}", "name": "helpful", "kind": "human", "value": 1,'
            f' "{field}": "x\\udc00"}}'
        )
        response = await http.post("/api/v1/scores", content=body, headers=JS)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert count(store, scores) == 0


async def test_a_body_that_is_not_utf8_is_a_422(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        response = await http.post(
            "/api/v1/signals", content=b'{"kind": "thumbs_up", "text": "\xff"}', headers=JS
        )
    assert response.status_code == 422
    assert "not UTF-8" in response.json()["detail"][0]["msg"]


async def test_a_gzipped_json_body_is_read_and_one_over_the_limit_is_a_413(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store, max_body_bytes=10_000) as http:
        trace = await one_interaction(http)
        small = gzip.compress(orjson.dumps({"trace_id": trace, "kind": "thumbs_up"}))
        big = gzip.compress(
            orjson.dumps({"trace_id": trace, "kind": "comment", "text": "x" * 20_000})
        )
        gz = {**JS, "content-encoding": "gzip"}
        accepted = await http.post("/api/v1/signals", content=small, headers=gz)
        refused = await http.post("/api/v1/signals", content=big, headers=gz)
    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 413
    assert "after decompression" in refused.json()["detail"]


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_a_signal_time_beyond_the_calendar_is_a_422(store: Store, at: str) -> None:
    async with client(store) as http:
        trace = await one_interaction(http)
        response = await http.post(
            "/api/v1/signals", json={"trace_id": trace, "kind": "thumbs_up", "at": at}
        )
    assert response.status_code == 422
    assert "between 1970-01-01 and 9999-01-01" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    "path", ["/api/v1/interactions", "/api/v1/scores", "/api/v1/experiments/online"]
)
async def test_filters_at_the_calendars_edge_mean_from_the_start_and_to_the_end(
    store: Store, path: str
) -> None:
    async with client(store) as http:
        await one_interaction(http)
        edges = {
            "project": "shop",
            "since": "0001-01-01T00:00:00+14:00",
            "until": "9999-12-31T23:59:59-14:00",
        }
        extra = {"a": "v1", "b": "v2"} if "experiments" in path else {}
        response = await http.get(path, params={**edges, **extra})
        naive = await http.get(path, params={"since": "2026-01-01T00:00:00", **extra})
    assert response.status_code == 200, response.text
    if path == "/api/v1/interactions":
        assert len(response.json()["items"]) == 1
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"/ui/interactions/{2**70}", {}),
        (f"/api/v1/interactions/{MAX_ID + 1}", {}),
        (f"/api/v1/review/items/{2**70}", {}),
        ("/api/v1/review/items", {"offset": str(2**70)}),
        ("/api/v1/review/items", {"group_id": str(2**64)}),
        (f"/api/v1/alerts/{2**64}", {}),
    ],
)
async def test_ids_beyond_64_bits_are_a_422(
    store: Store, path: str, params: dict[str, str]
) -> None:
    async with client(store) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 422, response.text
    if path.startswith("/ui/"):  # the dashboard's errors are pages
        assert "less than or equal to 9223372036854775807" in response.text
        return
    assert "less than or equal to 9223372036854775807" in response.json()["detail"][0]["msg"]


async def test_a_nul_in_a_signal_is_kept(store: Store) -> None:
    async with client(store) as http:
        trace = await one_interaction(http)
        response = await http.post(
            "/api/v1/signals",
            json={
                "trace_id": trace,
                "kind": "thumbs_down",
                "comment": "a\x00b",
                "metadata": {"k\x00": "v\x00"},
            },
        )
    assert response.status_code == 201, response.text
    with store.reading() as conn:
        text, details = conn.execute(sa.select(signals.c.text, signals.c.details)).one()
    # PostgreSQL holds no NUL in text or jsonb: U+FFFD stands in for it there; JSON is
    # stored alike on both stores.
    assert text == ("a\x00b" if store.is_sqlite else "a\ufffdb")
    assert details["metadata"] == {"k\ufffd": "v\ufffd"}


def test_after_a_500_the_keep_alive_connection_still_answers(sqlite_store: Store) -> None:
    def broken() -> None:
        raise RuntimeError("a bug in a route")

    with run_server(sqlite_store, Settings(db=str(sqlite_store.engine.url))) as server:
        server.app.add_api_route("/api/v1/broken", broken)
        address = urlsplit(server.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.request("GET", "/api/v1/broken")
        failed = connection.getresponse()
        failed_body = json.loads(failed.read())
        connection.request("GET", "/api/v1/health")
        after = connection.getresponse()
        after_body = json.loads(after.read())
        connection.close()
    assert failed.status == 500
    assert failed_body["detail"].startswith("internal error ")
    assert after.status == 200
    assert after_body["status"] == "ok"
