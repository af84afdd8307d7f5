"""Signing in and out in Debian's Chromium, on a server that requires keys: the browser
keeps a session id, not the key; its forms pass the origin and CSRF checks; a page of
another site cannot sign it in; signing out ends the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from liveeval.config import Settings
from liveeval.model import Role
from liveeval.store.database import open_store
from liveeval.store.keys import create_key
from tests.conftest import Clock, RunningServer, run_server
from tests.telemetry import T0

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import PageErrors


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    """A server with keys required, and an admin key's secret."""
    store = open_store(f"sqlite:///{tmp_path / 'keyed.db'}")
    with store.writing() as conn:
        _, secret = create_key(conn, "shop", Role.ADMIN, "browser", T0)
    settings = Settings(db=str(store.engine.url), require_keys=True, evaluation="off")
    try:
        with run_server(store, settings, clock=Clock()) as running:
            yield running, secret
    finally:
        store.close()


def test_signing_in_keeps_a_session_not_the_key_and_signing_out_ends_it(
    page: Page, keyed: tuple[RunningServer, str]
) -> None:
    server, secret = keyed
    page.goto(f"{server.url}/ui/review", wait_until="networkidle")
    assert "/ui/login" in page.url
    page.fill("input[name=key]", secret)
    page.click("form[action='/ui/login'] button")
    page.wait_for_url(f"{server.url}/ui/review*")
    assert page.locator("nav a.active").inner_text() == "Review"
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["liveeval_session"]
    assert secret not in session["value"] and session["httpOnly"]
    assert session["sameSite"] == "Lax"

    page.click("form.logout button")
    page.wait_for_url(f"{server.url}/ui/login*")
    page.context.add_cookies([{**session}])  # the old id, replayed
    page.goto(f"{server.url}/ui/overview", wait_until="networkidle")
    assert "/ui/login" in page.url


# A page of another site that signs the visitor in with the attacker's key (login CSRF),
# carrying a CSRF token the attacker got on its own visit.
FOREIGN_PAGE = """<!doctype html><html><body>
<form method="post" action="{action}">
<input name="key" value="{key}"><input name="csrf" value="{token}">
</form>
<script>document.forms[0].submit()</script>
</body></html>"""


def test_a_page_of_another_site_cannot_sign_the_browser_in(
    page_errors: tuple[Page, PageErrors], keyed: tuple[RunningServer, str]
) -> None:
    page, _ = page_errors
    server, secret = keyed
    page.goto(f"{server.url}/ui/login", wait_until="networkidle")
    token = page.locator("input[name=csrf]").get_attribute("value")
    html = FOREIGN_PAGE.format(action=f"{server.url}/ui/login", key=secret, token=token)
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(body=html, content_type="text/html"),
    )
    with page.expect_navigation(url=f"{server.url}/ui/login"):
        page.goto("http://evil.example/")
    assert "forms are accepted from the dashboard's own pages only" in page.content()
    names = {c["name"] for c in page.context.cookies(server.url)}
    assert "liveeval_session" not in names
