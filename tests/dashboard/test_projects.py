"""Which project a dashboard page shows when the address names none: the default one when
it has data, else the one with the newest interaction (what `liveeval demo` wrote)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveeval.store.database import Store
from liveeval.store.interactions import project_with_data
from liveeval.store.rollups import refresh_rollups
from tests.monitor.traffic import Traffic, store_traffic
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # tests.conftest.Clock's


def _store(store: Store, project: str, hours_ago: int) -> None:
    store_traffic(store, Traffic(), NOW - timedelta(hours=hours_ago), 30, 2, project=project)
    with store.writing() as conn:
        refresh_rollups(conn)


async def test_a_page_without_project_opens_the_one_with_data(store: Store) -> None:
    _store(store, "acme-support", 2)
    async with client(store) as http:
        response = await http.get("/ui/overview")
        root = await http.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert "<small>acme-support</small>" in response.text
    assert '<p class="big">60</p>' in response.text  # 30 minutes x 2, not the empty default
    assert 'href="/ui/interactions?project=acme-support"' in response.text  # the nav keeps it
    assert "<small>acme-support</small>" in root.text


async def test_the_default_project_stays_when_it_has_data(store: Store) -> None:
    _store(store, "default", 20)
    _store(store, "newer", 2)
    async with client(store) as http:
        response = await http.get("/ui/overview")
        chosen = await http.get("/ui/overview", params={"project": "newer"})
    assert "<small>default</small>" in response.text
    assert "<small>newer</small>" in chosen.text


def test_the_newest_project_wins_and_an_empty_store_keeps_the_default(store: Store) -> None:
    with store.reading() as conn:
        assert project_with_data(conn, "default", []) == "default"
    _store(store, "old", 30)
    _store(store, "new", 2)
    with store.reading() as conn:
        assert project_with_data(conn, "default", ["new", "old"]) == "new"
        assert project_with_data(conn, "default", []) == "new"  # rollups not read yet


async def test_a_chosen_project_is_remembered_for_addresses_without_one(store: Store) -> None:
    _store(store, "default", 20)
    _store(store, "other team", 2)
    async with client(store) as http:
        chosen = await http.get("/ui/quality", params={"project": "other team"})
        later = await http.get("/ui/overview")
        back = await http.get("/ui/overview", params={"project": "default"})
        after = await http.get("/ui/alerts")
    assert "<small>other team</small>" in chosen.text
    assert "<small>other team</small>" in later.text
    assert "<small>default</small>" in back.text
    assert "<small>default</small>" in after.text
