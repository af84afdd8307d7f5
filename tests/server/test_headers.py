"""Every response carries the security headers: pages, API, static files, errors."""

from __future__ import annotations

import pytest

from liveeval.server.headers import SECURITY_HEADERS
from liveeval.store.database import Store
from tests.server.asgi import client

pytestmark = pytest.mark.anyio


async def test_every_kind_of_response_carries_the_security_headers(sqlite_store: Store) -> None:
    async with client(sqlite_store) as http:
        responses = {
            "page": await http.get("/ui/overview"),
            "api": await http.get("/api/v1/interactions"),
            "static": await http.get("/ui/static/charts.js"),
            "redirect": await http.get("/"),
            "not found": await http.get("/api/v1/interactions/999999"),
            "refused host": await http.get("/api/v1/health", headers={"host": "evil.example"}),
        }
    async with client(sqlite_store, require_keys=True) as http:
        responses["login"] = await http.get("/ui/login")
        responses["unauthorised"] = await http.get("/api/v1/interactions")
    for kind, response in responses.items():
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (kind, name)


def test_the_policy_forbids_framing_inline_script_and_inline_style() -> None:
    parts = SECURITY_HEADERS["Content-Security-Policy"].split(";")
    policy = dict(part.strip().split(" ", 1) for part in parts)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"
