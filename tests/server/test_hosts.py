"""An open server answers only the host names it was told about (DNS rebinding)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from liveeval.config import Settings
from liveeval.server.hosts import host_name
from liveeval.store.database import Store
from tests.conftest import run_server
from tests.server.asgi import client
from tests.telemetry import genai_attributes, json_span, json_traces, span_id, trace_id

pytestmark = pytest.mark.anyio
JS = {"content-type": "application/json"}


def traces() -> bytes:
    span = json_span(genai_attributes(), trace=trace_id(), span=span_id())
    return orjson.dumps(json_traces(span))


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:7318", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:7318", "::1"),
        ("[::1]", "::1"),
        ("example.com.", "example.com"),
        ("", ""),
    ],
)
def test_host_names_lose_port_brackets_case_and_the_root_dot(header: str, name: str) -> None:
    assert host_name(header) == name


async def test_an_open_server_refuses_a_host_it_was_not_told_about(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        assert (await http.post("/v1/traces", content=traces(), headers=JS)).status_code == 200
        read = await http.get("/api/v1/interactions", headers={"host": "evil.example"})
        page = await http.get("/ui/interactions", headers={"host": "evil.example:7318"})
        written = await http.post(
            "/v1/traces", content=traces(), headers={**JS, "host": "evil.example"}
        )
        assert len((await http.get("/api/v1/interactions")).json()["items"]) == 1
    for refused in (read, page, written):
        assert refused.status_code == 400
        assert "allowed_hosts" in refused.json()["detail"]
        assert "'evil.example" in refused.json()["detail"]


@pytest.mark.parametrize("host", ["localhost", "localhost:9", "127.0.0.1:7318", "[::1]:7318"])
async def test_loopback_names_are_answered_on_any_port(sqlite_store: Store, host: str) -> None:
    async with client(sqlite_store, allowed_hosts=[]) as http:
        answered = await http.get("/api/v1/interactions", headers={"host": host})
    assert answered.status_code == 200


async def test_the_bound_address_and_allowed_hosts_are_answered(sqlite_store: Store) -> None:
    allowed = ["LLM-Box.lan", "*.internal.example"]
    async with client(sqlite_store, host="127.0.0.2", allowed_hosts=allowed) as http:
        for host in ("127.0.0.2:7318", "llm-box.lan:7318", "evals.internal.example"):
            answered = await http.get("/api/v1/interactions", headers={"host": host})
            assert answered.status_code == 200, host
        for host in ("internal.example", "llm-box.lan.evil.example", "evilinternal.example"):
            refused = await http.get("/api/v1/interactions", headers={"host": host})
            assert refused.status_code == 400, host


async def test_a_star_answers_any_host(sqlite_store: Store) -> None:
    async with client(sqlite_store, allowed_hosts=["*"]) as http:
        answered = await http.get("/api/v1/interactions", headers={"host": "anything.example"})
    assert answered.status_code == 200


async def test_with_keys_required_the_key_is_the_protection_and_any_host_is_answered(
    sqlite_store: Store,
) -> None:
    async with client(sqlite_store, require_keys=True, allowed_hosts=[]) as http:
        unkeyed = await http.get("/api/v1/interactions", headers={"host": "proxy.example"})
    assert unkeyed.status_code == 401  # not 400: the host is fine, the key is missing


def test_a_real_server_refuses_a_rebound_name(sqlite_store: Store) -> None:
    """Through a socket, as a browser whose DNS was re-pointed at 127.0.0.1 would ask."""
    settings = Settings(db=str(sqlite_store.engine.url))
    with run_server(sqlite_store, settings) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/api/v1/interactions").status_code == 200
        rebound = http.get("/api/v1/interactions", headers={"host": "attacker.example"})
    assert rebound.status_code == 400
    assert rebound.headers["content-type"] == "application/json"
