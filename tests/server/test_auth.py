"""API keys and projects: who may send and read what."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from google.rpc import code_pb2, status_pb2

from liveeval.config import Settings
from liveeval.model import Role
from liveeval.server import create_app
from liveeval.server.auth import KEY_CACHE_SECONDS, KeyCache
from liveeval.store.database import Store
from liveeval.store.keys import create_key, hash_key, list_keys, revoke_key
from liveeval.store.schema import api_keys
from tests.conftest import Clock
from tests.server.asgi import client, serve
from tests.telemetry import (
    T0,
    genai_attributes,
    json_span,
    json_traces,
    proto_span,
    proto_traces,
    span_id,
    trace_id,
)

JS = {"content-type": "application/json"}


def make_key(store: Store, project: str, role: Role) -> str:
    with store.writing() as conn:
        _, secret = create_key(conn, project, role, None, T0)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def traces_body(trace: str, service: str | None = None) -> bytes:
    return orjson.dumps(
        json_traces(json_span(genai_attributes(), trace=trace, span=span_id()), service=service)
    )


async def export(
    http: httpx.AsyncClient, secret: str | None, trace: str, service: str | None = None
) -> httpx.Response:
    headers = {**JS, **(bearer(secret) if secret else {})}
    return await http.post("/v1/traces", content=traces_body(trace, service), headers=headers)


async def items(http: httpx.AsyncClient, secret: str, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/api/v1/interactions", params=params, headers=bearer(secret))
    assert response.status_code == 200, response.text
    return response.json()["items"]


# -- authentication ------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer lek_nope_nope"},
        {"x-api-key": "lek_nope_nope"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"authorization": "Bearer "},
    ],
    ids=["none", "wrong-bearer", "wrong-x-api-key", "basic", "empty-bearer"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/interactions", None),
        ("GET", "/api/v1/interactions/counts?by=route", None),
        ("GET", "/api/v1/interactions/1", None),
        ("POST", "/api/v1/signals", {"kind": "thumbs_up", "trace_id": "ab" * 16}),
        (
            "POST",
            "/api/v1/signals/batch",
            {"signals": [{"kind": "abandoned", "trace_id": "ab" * 16}]},
        ),
    ],
)
async def test_without_a_valid_key_the_api_answers_401(
    sqlite_store: Store,
    headers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    make_key(sqlite_store, "shop", Role.ADMIN)
    async with client(sqlite_store, require_keys=True) as http:
        response = await http.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


@pytest.mark.anyio
async def test_without_a_key_an_otlp_export_is_401_with_a_status_in_its_encoding(
    sqlite_store: Store,
) -> None:
    body = proto_traces(proto_span(genai_attributes(), trace=trace_id(), span=span_id()))
    async with client(sqlite_store, require_keys=True) as http:
        response = await http.post(
            "/v1/traces",
            content=body.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
        listed = await http.get("/api/v1/interactions")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    status = status_pb2.Status.FromString(response.content)
    assert status.code == code_pb2.UNAUTHENTICATED
    assert "an API key is required" in status.message
    assert listed.status_code == 401


@pytest.mark.anyio
async def test_a_key_is_accepted_as_bearer_or_as_x_api_key(sqlite_store: Store) -> None:
    secret = make_key(sqlite_store, "shop", Role.ADMIN)
    async with client(sqlite_store, require_keys=True) as http:
        assert (await export(http, secret, trace_id())).status_code == 200
        by_header = await http.get("/api/v1/interactions", headers={"x-api-key": secret})
        assert by_header.status_code == 200
        assert len(by_header.json()["items"]) == 1


@pytest.mark.anyio
async def test_a_revoked_key_is_refused_once_the_cache_entry_expires(sqlite_store: Store) -> None:
    secret = make_key(sqlite_store, "shop", Role.ADMIN)
    with sqlite_store.reading() as conn:
        [key] = list_keys(conn)
    now = [1000.0]
    app = create_app(Settings(require_keys=True), sqlite_store, clock=Clock())
    app.state.keys = KeyCache(sqlite_store, clock=lambda: now[0])
    async with serve(app) as http:
        assert (await http.get("/api/v1/interactions", headers=bearer(secret))).status_code == 200
        with sqlite_store.writing() as conn:
            assert revoke_key(conn, key.key_id, T0)
        now[0] += KEY_CACHE_SECONDS - 0.5  # still cached: the documented grace
        assert (await http.get("/api/v1/interactions", headers=bearer(secret))).status_code == 200
        now[0] += 1.0
        refused = await http.get("/api/v1/interactions", headers=bearer(secret))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "unknown or revoked API key"}
        assert (await export(http, secret, trace_id())).status_code == 401


@pytest.mark.anyio
async def test_a_key_revoked_before_the_server_starts_is_refused(sqlite_store: Store) -> None:
    secret = make_key(sqlite_store, "shop", Role.ADMIN)
    with sqlite_store.writing() as conn:
        [key] = list_keys(conn)
        revoke_key(conn, key.key_id, T0)
    async with client(sqlite_store, require_keys=True) as http:
        assert (await http.get("/api/v1/interactions", headers=bearer(secret))).status_code == 401


# -- roles ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_ingest_key_cannot_read(sqlite_store: Store) -> None:
    secret = make_key(sqlite_store, "shop", Role.INGEST)
    async with client(sqlite_store, require_keys=True) as http:
        assert (await export(http, secret, trace_id())).status_code == 200
        for path in (
            "/api/v1/interactions",
            "/api/v1/interactions/counts?by=route",
            "/api/v1/interactions/1",
        ):
            response = await http.get(path, headers=bearer(secret))
            assert response.status_code == 403
            assert response.json() == {"detail": "this ingest key cannot read"}


@pytest.mark.anyio
async def test_a_read_key_cannot_ingest(sqlite_store: Store) -> None:
    reader = make_key(sqlite_store, "shop", Role.READ)
    async with client(sqlite_store, require_keys=True) as http:
        response = await export(http, reader, trace_id())
        assert response.status_code == 403
        assert response.json() == {
            "code": code_pb2.PERMISSION_DENIED,
            "message": "this read key cannot ingest",
        }
        signal = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_up", "trace_id": "ab" * 16},
            headers=bearer(reader),
        )
        assert signal.status_code == 403
        assert await items(http, reader) == []


@pytest.mark.anyio
async def test_an_admin_key_can_ingest_and_read(sqlite_store: Store) -> None:
    admin = make_key(sqlite_store, "shop", Role.ADMIN)
    async with client(sqlite_store, require_keys=True) as http:
        trace = trace_id()
        assert (await export(http, admin, trace)).status_code == 200
        assert [i["trace_id"] for i in await items(http, admin)] == [trace]


# -- projects ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_spans_sent_with_a_key_land_in_its_project_whatever_their_service_name(
    store: Store,
) -> None:
    ingest_a = make_key(store, "a", Role.INGEST)
    read_a = make_key(store, "a", Role.READ)
    read_b = make_key(store, "b", Role.READ)
    async with client(store, require_keys=True) as http:
        trace = trace_id()
        assert (await export(http, ingest_a, trace, service="b")).status_code == 200
        assert [i["trace_id"] for i in await items(http, read_a)] == [trace]
        assert [i["project"] for i in await items(http, read_a)] == ["a"]
        assert await items(http, read_b) == []


@pytest.mark.anyio
async def test_a_key_cannot_read_or_signal_another_project(store: Store) -> None:
    admin_a = make_key(store, "a", Role.ADMIN)
    admin_b = make_key(store, "b", Role.ADMIN)
    async with client(store, require_keys=True) as http:
        trace_b = trace_id()
        assert (await export(http, admin_b, trace_b)).status_code == 200
        [interaction_b] = await items(http, admin_b)
        b_id = interaction_b["interaction_id"]

        for path, params in (
            ("/api/v1/interactions", {"project": "b"}),
            ("/api/v1/interactions/counts", {"project": "b", "by": "route"}),
            (f"/api/v1/interactions/{b_id}", {}),
        ):
            response = await http.get(path, params=params, headers=bearer(admin_a))
            assert response.status_code == 403, path
            assert "this key belongs to project 'a'" in response.json()["detail"]

        by_id = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_down", "interaction_id": b_id},
            headers=bearer(admin_a),
        )
        assert by_id.status_code == 403
        naming_b = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_down", "trace_id": trace_b},
            headers={**bearer(admin_a), "x-liveeval-project": "b"},
        )
        assert naming_b.status_code == 403
        in_batch = await http.post(
            "/api/v1/signals/batch",
            json={"signals": [{"kind": "thumbs_up", "interaction_id": b_id}]},
            headers=bearer(admin_a),
        )
        assert in_batch.status_code == 403

        detail = await http.get(f"/api/v1/interactions/{b_id}", headers=bearer(admin_b))
        assert detail.json()["signals"] == []
        assert (
            await http.get("/api/v1/interactions", params={"project": "a"}, headers=bearer(admin_a))
        ).status_code == 200


@pytest.mark.anyio
async def test_a_keyed_signal_naming_another_projects_trace_stays_in_its_own_project(
    store: Store,
) -> None:
    admin_a = make_key(store, "a", Role.ADMIN)
    admin_b = make_key(store, "b", Role.ADMIN)
    trace = trace_id()
    async with client(store, require_keys=True) as http:
        early = await http.post(
            "/api/v1/signals",
            json={"kind": "thumbs_down", "trace_id": trace},
            headers=bearer(admin_a),
        )
        assert early.status_code == 202
        assert (await export(http, admin_b, trace)).status_code == 200
        [interaction_b] = await items(http, admin_b)
        detail = await http.get(
            f"/api/v1/interactions/{interaction_b['interaction_id']}", headers=bearer(admin_b)
        )
    assert detail.json()["signals"] == []


# -- open mode -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_in_open_mode_the_project_is_the_service_name_else_the_default(
    store: Store,
) -> None:
    named, unnamed = trace_id(), trace_id()
    async with client(store, default_project="misc") as http:
        assert (await export(http, None, named, service="checkout")).status_code == 200
        assert (await export(http, None, unnamed)).status_code == 200
        checkout = (await http.get("/api/v1/interactions", params={"project": "checkout"})).json()
        default = (await http.get("/api/v1/interactions")).json()
    assert [(i["trace_id"], i["project"]) for i in checkout["items"]] == [(named, "checkout")]
    assert [(i["trace_id"], i["project"]) for i in default["items"]] == [(unnamed, "misc")]


@pytest.mark.anyio
async def test_in_open_mode_a_key_still_decides_the_project(sqlite_store: Store) -> None:
    secret = make_key(sqlite_store, "keyed", Role.ADMIN)
    async with client(sqlite_store) as http:
        assert (await export(http, secret, trace_id(), service="checkout")).status_code == 200
        assert len(await items(http, secret)) == 1
        forbidden = await http.get(
            "/api/v1/interactions", params={"project": "checkout"}, headers=bearer(secret)
        )
        assert forbidden.status_code == 403


def test_a_refused_secret_is_not_remembered_so_a_new_key_works_at_once(store: Store) -> None:
    cache = KeyCache(store, clock=lambda: 0.0)  # time stands still: only caching could refuse
    secret = "lek_0123456789ab_made-a-moment-later"
    assert cache.lookup(secret) is None
    with store.writing() as conn:
        conn.execute(
            api_keys.insert().values(
                key_id="0123456789ab",
                project="shop",
                role="read",
                key_hash=hash_key(secret),
                created_at=T0,
            )
        )
    key = cache.lookup(secret)
    assert key is not None
    assert (key.key_id, key.project, key.role) == ("0123456789ab", "shop", Role.READ)
