"""POST /api/v1/scores, /scores/batch and GET /api/v1/scores."""

from __future__ import annotations

import pytest

from liveeval.store.database import Store
from tests.server.asgi import client
from tests.server.test_signals import send_llm_span
from tests.telemetry import trace_id

pytestmark = pytest.mark.anyio


async def test_a_posted_score_is_listed_with_its_interaction(store: Store) -> None:
    async with client(store) as http:
        trace, iid = await send_llm_span(http)
        posted = await http.post(
            "/api/v1/scores",
            json={
                "trace_id": trace,
                "name": "helpfulness",
                "kind": "human",
                "value": 2,
                "label": "unhelpful",
                "explanation": "Did not answer the refund question.",
                "author": "ana@example.com",
            },
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["interaction_id"] == iid
        detail = (await http.get(f"/api/v1/interactions/{iid}")).json()
        listed = (await http.get("/api/v1/scores", params={"kind": "human"})).json()
    [score] = [s for s in detail["scores"] if s["kind"] == "human"]
    assert (score["name"], score["value"], score["label"]) == ("helpfulness", 2.0, "unhelpful")
    assert score["author"] == "ana@example.com" and score["status"] == "ok"
    assert [s["score_id"] for s in listed["items"]] == [posted.json()["score_id"]]


async def test_a_retried_post_with_the_same_key_counts_once(store: Store) -> None:
    async with client(store) as http:
        _, iid = await send_llm_span(http)
        body = {"interaction_id": iid, "name": "csat", "value": 4, "idempotency_key": "r-1"}
        first = await http.post("/api/v1/scores", json=body)
        again = await http.post("/api/v1/scores", json=body)
        listed = (await http.get("/api/v1/scores", params={"name": "csat"})).json()
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert len(listed["items"]) == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "x", "value": 1}, "name the interaction"),
        ({"interaction_id": 1, "name": "x"}, "value, a label or both"),
        ({"interaction_id": 1, "name": "x", "value": 1, "colour": "red"}, "colour"),
        ({"interaction_id": 1, "name": "x", "value": "high"}, "value"),
        ({"interaction_id": 1, "name": "x", "value": 1, "kind": "judge"}, "kind"),
        ({"interaction_id": 1, "name": " ", "value": 1}, "name"),
    ],
)
async def test_bad_scores_are_refused_with_the_field_named(
    store: Store, body: dict, fragment: str
) -> None:
    async with client(store) as http:
        response = await http.post("/api/v1/scores", json=body)
    assert response.status_code == 422
    assert fragment in response.text


async def test_a_score_for_an_interaction_not_stored_yet_is_a_404_to_retry(store: Store) -> None:
    async with client(store) as http:
        missing = await http.post(
            "/api/v1/scores", json={"trace_id": trace_id(), "name": "x", "value": 1}
        )
        unknown_id = await http.post(
            "/api/v1/scores", json={"interaction_id": 999, "name": "x", "value": 1}
        )
    assert missing.status_code == 404 and "send it again" in missing.text
    assert unknown_id.status_code == 404


async def test_a_batch_is_stored_whole_or_not_at_all(store: Store) -> None:
    async with client(store) as http:
        _, iid = await send_llm_span(http)
        good = {"interaction_id": iid, "name": "a", "value": 1}
        bad = {"interaction_id": 999, "name": "b", "value": 1}
        refused = await http.post("/api/v1/scores/batch", json={"scores": [good, bad]})
        after_refusal = (await http.get("/api/v1/scores", params={"name": "a"})).json()
        stored = await http.post("/api/v1/scores/batch", json={"scores": [good, good]})
    assert refused.status_code == 404
    assert after_refusal["items"] == []
    assert stored.status_code == 201 and len(stored.json()) == 2


async def test_scores_page_with_a_cursor(store: Store) -> None:
    async with client(store) as http:
        _, iid = await send_llm_span(http)
        for n in range(5):
            await http.post(
                "/api/v1/scores", json={"interaction_id": iid, "name": f"s{n}", "value": n}
            )
        first = (await http.get("/api/v1/scores", params={"limit": 3, "kind": "external"})).json()
        rest = (
            await http.get(
                "/api/v1/scores",
                params={"limit": 3, "kind": "external", "cursor": first["next_cursor"]},
            )
        ).json()
    names = [s["name"] for s in first["items"] + rest["items"]]
    assert names == ["s4", "s3", "s2", "s1", "s0"]
    assert rest["next_cursor"] is None


async def test_a_read_key_of_another_project_cannot_post_or_read(store: Store) -> None:
    from liveeval.model import Role
    from liveeval.store.keys import create_key
    from tests.conftest import Clock

    with store.writing() as conn:
        _, ingest_secret = create_key(conn, "other", Role.INGEST, None, Clock().now)
    async with client(store) as http:
        _, iid = await send_llm_span(http)
    async with client(store, require_keys=True) as http:
        response = await http.post(
            "/api/v1/scores",
            json={"interaction_id": iid, "name": "x", "value": 1},
            headers={"authorization": f"Bearer {ingest_secret}"},
        )
    assert response.status_code == 403
