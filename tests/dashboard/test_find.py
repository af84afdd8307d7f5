"""Finding interactions on the dashboard and through the API: by user, by session, and by
words in what was said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveeval.model import Interaction
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.scores import interaction_ids_by_span
from tests.server.asgi import client
from tests.store.stored import chat_interaction

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # tests.conftest.Clock's


def said(user: str, session: str, question: str, answer: str, minutes: int) -> Interaction:
    at = NOW - timedelta(minutes=minutes)
    return chat_interaction(
        at, input_text=question, output_text=answer, user_id=user, session_id=session
    )


def scene(store: Store) -> dict[str, int]:
    found = [
        said("ada", "s-1", "Where is my parcel?", "On its way.", 30),
        said("ada", "s-2", "Refund please", "Refund issued.", 20),
        said("bob", "s-3", "Reset my password", "Use the PARCEL link.", 10),
    ]
    with store.writing() as conn:
        upsert_interactions(conn, found, NOW)
        ids = interaction_ids_by_span(conn, "shop", [i.trace_id for i in found])
    return {i.input_text or "": ids[(i.trace_id, i.span_id)] for i in found}


def listed(html: str, ids: dict[str, int]) -> set[str]:
    return {text for text, iid in ids.items() if f'href="/ui/interactions/{iid}"' in html}


async def test_the_list_filters_by_user_session_and_text(store: Store) -> None:
    ids = scene(store)
    async with client(store) as http:

        async def shown(**params: str) -> set[str]:
            response = await http.get("/ui/interactions", params={"project": "shop", **params})
            assert response.status_code == 200
            return listed(response.text, ids)

        assert await shown(user_id="ada") == {"Where is my parcel?", "Refund please"}
        assert await shown(session_id="s-3") == {"Reset my password"}
        assert await shown(q="parcel") == {"Where is my parcel?", "Reset my password"}
        assert await shown(q="parcel", user_id="bob") == {"Reset my password"}
        form = (await http.get("/ui/interactions", params={"project": "shop", "q": "x"})).text
    assert 'name="q" value="x"' in form and 'name="user_id"' in form
    assert 'name="session_id"' in form


async def test_an_interaction_links_to_its_users_and_its_sessions_interactions(
    store: Store,
) -> None:
    ids = scene(store)
    async with client(store) as http:
        page = await http.get(f"/ui/interactions/{ids['Refund please']}")
    assert "user_id=ada" in page.text and "session_id=s-2" in page.text


async def test_the_api_filters_by_user_and_text(store: Store) -> None:
    scene(store)
    async with client(store) as http:
        by_user = await http.get(
            "/api/v1/interactions", params={"project": "shop", "user_id": "bob"}
        )
        by_text = await http.get("/api/v1/interactions", params={"project": "shop", "q": "REFUND"})
    assert [i["input_text"] for i in by_user.json()["items"]] == ["Reset my password"]
    assert [i["input_text"] for i in by_text.json()["items"]] == ["Refund please"]
