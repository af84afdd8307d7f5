"""Dashboard sign-in and forms: the cookie holds a session id, never the key; sessions
live in the store, end at logout and when the key is revoked; forms are accepted only
from the dashboard's own pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from liveeval.config import Settings
from liveeval.dashboard.security import SESSION_COOKIE
from liveeval.model import Role
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.keys import create_key, list_keys, revoke_key
from liveeval.store.schema import dashboard_sessions
from tests.conftest import Clock
from tests.server.asgi import HOST, serve
from tests.telemetry import T0

pytestmark = pytest.mark.anyio
OWN = f"http://{HOST}"


def new_key(store: Store, role: Role = Role.ADMIN) -> str:
    with store.writing() as conn:
        _, secret = create_key(conn, "shop", role, "viewer", T0)
    return secret


@asynccontextmanager
async def dashboard(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """One server process over `store` with keys required (a browser's view of it)."""
    settings = Settings(db=str(store.engine.url), require_keys=True)
    async with serve(create_app(settings, store, clock=Clock())) as http:
        yield http


async def form_token(http: httpx.AsyncClient, path: str = "/ui/login") -> str:
    page = await http.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    token = await form_token(http)
    return await http.post("/ui/login", data={"key": key, "csrf": token}, headers=headers)


async def test_the_session_cookie_holds_a_random_id_never_the_key(store: Store) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        signed = await sign_in(http, key, origin=OWN)
        assert signed.status_code == 303, signed.text
        session = http.cookies[SESSION_COOKIE]
        assert key not in signed.headers["set-cookie"]
        assert session != key and len(session) >= 40
        assert (await http.get("/ui/overview")).status_code == 200
    with store.reading() as conn:
        stored = [tuple(row) for row in conn.execute(dashboard_sessions.select())]
    assert len(stored) == 1
    assert not any(session in str(value) or key in str(value) for value in stored[0])


async def test_a_session_started_on_one_server_process_works_on_another(store: Store) -> None:
    """`serve --workers N`: processes share the store, not memory."""
    key = new_key(store)
    async with dashboard(store) as first:
        await sign_in(first, key)
        session = first.cookies[SESSION_COOKIE]
    async with dashboard(store) as second:
        second.cookies.set(SESSION_COOKIE, session)
        assert (await second.get("/ui/overview")).status_code == 200


async def test_logout_ends_the_session_everywhere(store: Store) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        await sign_in(http, key)
        session = http.cookies[SESSION_COOKIE]
        page = await http.get("/ui/overview")
        assert 'action="/ui/logout"' in page.text
        token = http.cookies["liveeval_csrf"]
        out = await http.post("/ui/logout", data={"csrf": token}, headers={"origin": OWN})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert SESSION_COOKIE not in http.cookies
    async with dashboard(store) as replay:
        replay.cookies.set(SESSION_COOKIE, session)  # the old id, kept by someone
        again = await replay.get("/ui/overview")
    assert again.status_code == 303 and again.headers["location"].startswith("/ui/login")


async def test_revoking_a_key_ends_its_sessions_at_once(store: Store) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        await sign_in(http, key)
        assert (await http.get("/ui/overview")).status_code == 200
        with store.writing() as conn:
            [made] = list_keys(conn)
            assert revoke_key(conn, made.key_id, T0)
        after = await http.get("/ui/overview")
    assert after.status_code == 303 and after.headers["location"].startswith("/ui/login")


async def test_an_unknown_session_id_is_sent_to_the_login_page(store: Store) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        http.cookies.set(SESSION_COOKIE, key)  # the old cookie format: the key itself
        page = await http.get("/ui/overview")
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")


async def test_a_login_posted_from_another_site_is_refused(store: Store) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        foreign = await sign_in(http, key, origin="http://evil.example")
        assert foreign.status_code == 403
        assert "evil.example" in foreign.text  # an error page: the dashboard's errors are HTML
        by_referer = await sign_in(http, key, referer="http://evil.example/page")
        assert by_referer.status_code == 403
        sandboxed = await sign_in(http, key, origin="null")
        assert sandboxed.status_code == 403
        tokenless = await http.post("/ui/login", data={"key": key}, headers={"origin": OWN})
        assert tokenless.status_code == 403
        assert SESSION_COOKIE not in http.cookies
        own = await sign_in(http, key, origin=OWN)
    assert own.status_code == 303 and SESSION_COOKIE in http.cookies


async def test_a_form_from_another_site_changes_nothing_even_with_the_token(
    store: Store,
) -> None:
    key = new_key(store)
    async with dashboard(store) as http:
        await sign_in(http, key)
        token = http.cookies["liveeval_csrf"]
        form = {"reason": "stale", "csrf": token, "project": "shop"}
        refused = await http.post(
            "/ui/golden/some-case/retire", data=form, headers={"origin": "https://evil.example"}
        )
        other_port = await http.post(
            "/ui/golden/some-case/retire", data=form, headers={"origin": f"{OWN}:8080"}
        )
    assert refused.status_code == 403 and other_port.status_code == 403


async def test_a_proxy_name_in_allowed_hosts_may_post_forms(store: Store) -> None:
    """Behind a proxy that rewrites Host, the browser's origin is the public name."""
    key = new_key(store)
    settings = Settings(
        db=str(store.engine.url), require_keys=True, allowed_hosts=["liveeval.example.com"]
    )
    async with serve(create_app(settings, store, clock=Clock())) as http:
        signed = await sign_in(http, key, origin="https://liveeval.example.com")
    assert signed.status_code == 303


async def test_an_ingest_key_cannot_sign_in(store: Store) -> None:
    key = new_key(store, Role.INGEST)
    async with dashboard(store) as http:
        refused = await sign_in(http, key)
    assert refused.status_code == 401 and "ingest key cannot read" in refused.text
    assert SESSION_COOKIE not in http.cookies
