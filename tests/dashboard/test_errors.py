"""Errors under /ui/ are pages in the dashboard's frame (status, a sentence, a link back),
not FastAPI's JSON; the REST API keeps its JSON errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveeval.store.database import Store
from tests.monitor.traffic import Traffic, store_traffic
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # tests.conftest.Clock's


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/ui/interactions/999999", 404, "Interaction 999999 does not exist."),
        ("/ui/interactions/abc", 422, "The address part &#39;interaction_id&#39; is not valid"),
        ("/ui/quality?days=abc", 422, "The parameter &#39;days&#39; is not valid (got &#39;abc"),
        ("/ui/interactions?hours=-1", 422, "The parameter &#39;hours&#39; is not valid"),
        ("/ui/nowhere", 404, "There is no page at /ui/nowhere."),
    ],
)
async def test_a_dashboard_error_is_a_page_with_a_sentence_and_a_way_back(
    store: Store, path: str, status: int, said: str
) -> None:
    async with client(store) as http:
        response = await http.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert said in response.text
    assert "<nav>" in response.text  # the dashboard's frame
    assert 'href="/ui/overview?project=default">Back to the overview' in response.text


async def test_the_rest_api_keeps_json_errors(store: Store) -> None:
    async with client(store) as http:
        missing = await http.get("/api/v1/interactions/999999")
        invalid = await http.get("/api/v1/interactions/abc")
    assert missing.status_code == 404 and missing.json()["detail"]
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"]


async def test_an_error_page_keeps_the_project_of_the_address(store: Store) -> None:
    async with client(store) as http:
        response = await http.get("/ui/quality", params={"days": "0", "project": "shop"})
    assert response.status_code == 422
    assert 'href="/ui/overview?project=shop">Back' in response.text


async def test_an_error_page_without_project_names_the_project_with_data(store: Store) -> None:
    store_traffic(store, Traffic(), NOW - timedelta(hours=2), 10, 1, project="acme-support")
    async with client(store) as http:
        response = await http.get("/ui/interactions/999999")
    assert response.status_code == 404
    assert 'href="/ui/overview?project=acme-support">Back' in response.text
