"""Adding the interactions ticked on the interactions page to the golden set: one form,
with the CSRF token, each interaction in its own transaction, and a page that says what
was added and what was refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from liveeval.model import Role
from liveeval.store import cases as stored
from liveeval.store import review as queue
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.flywheel.test_review_flow import store_interactions
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
FORM = {
    "project": "shop",
    "grader_type": "contains",
    "grader_value": "5 business days",
    "behaviour": "Say refunds arrive within 5 business days.",
    "tags": "refunds",
    "reviewer": "Ana",
}


async def test_ticked_interactions_become_cases_and_the_refused_ones_say_why(
    store: Store,
) -> None:
    first, second, done_before = store_interactions(
        store,
        [
            ("When is my refund due?", "Refunds take 90 days."),
            ("Mail me at jo@example.com about my refund", "No idea."),
            ("Refund?", "Never."),
        ],
    )
    async with client(store, privacy={"ner": "off"}) as http:
        page = await http.get("/ui/interactions", params={"project": "shop"})
        assert 'id="add-selected"' in page.text
        assert f'name="interaction" value="{first}"' in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        csrf = token.group(1)
        single = await http.post(
            f"/ui/interactions/{done_before}/golden", data={**FORM, "csrf": csrf}
        )
        assert single.status_code == 303
        ticked = {**FORM, "interaction": [first, second, done_before, 999_999]}
        refused = await http.post("/ui/interactions/golden", data=ticked)
        assert refused.status_code == 403
        with store.reading() as conn:
            assert len(stored.latest_cases(conn, "shop")) == 1
        answer = await http.post("/ui/interactions/golden", data={**ticked, "csrf": csrf})
    assert answer.status_code == 200, answer.text[:300]
    added = answer.text.split('id="golden-added"')[1].split("</section>")[0]
    refusals = answer.text.split('id="golden-refused"')[1].split("</section>")[0]
    assert "2 added" in added and "review-2" in added and "review-3" in added
    assert "2 refused" in refusals
    assert f"interaction {done_before} is already case review-1" in refusals
    assert "no interaction 999999 in shop" in refusals
    with store.reading() as conn:
        cases = {c.id: c for c in stored.latest_cases(conn, "shop")}
        items = [queue.item_of_interaction(conn, i) for i in (first, second)]
    assert set(cases) == {"review-1", "review-2", "review-3"}
    assert all(c.frozen and c.author.startswith("Ana") for c in cases.values())
    assert "<EMAIL_ADDRESS>" in (cases["review-3"].input.text or "")
    assert all(i is not None and i.state.value == "promoted" for i in items)


async def test_a_grader_that_does_not_fit_refuses_each_and_files_nothing(store: Store) -> None:
    ids = store_interactions(store, [("a?", "b"), ("c?", "d")])
    async with client(store, privacy={"ner": "off"}) as http:
        page = await http.get("/ui/interactions", params={"project": "shop"})
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        form = {**FORM, "grader_type": "exact", "grader_value": "", "behaviour": ""}
        answer = await http.post(
            "/ui/interactions/golden", data={**form, "interaction": ids, "csrf": token.group(1)}
        )
    assert answer.status_code == 200
    assert "0 added" in answer.text and "2 refused" in answer.text
    assert "exact grader needs" in answer.text
    with store.reading() as conn:
        assert stored.latest_cases(conn, "shop") == []
        assert all(queue.item_of_interaction(conn, i) is None for i in ids)


async def test_a_read_key_sees_no_form_and_cannot_add(store: Store) -> None:
    ids = store_interactions(store, [("a?", "b")])
    with store.writing() as conn:
        _, read_key = create_key(
            conn, "shop", Role.READ, "viewer", datetime(2026, 11, 1, tzinfo=UTC)
        )
    async with client(store, require_keys=True, privacy={"ner": "off"}) as http:
        login = await http.get("/ui/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert token is not None
        form = {"csrf": token.group(1), "next": "/ui/interactions", "key": read_key}
        assert (await http.post("/ui/login", data=form)).status_code == 303
        page = await http.get("/ui/interactions", params={"project": "shop"})
        assert page.status_code == 200 and 'id="add-selected"' not in page.text
        csrf = http.cookies.get("liveeval_csrf")
        denied = await http.post(
            "/ui/interactions/golden", data={**FORM, "interaction": ids, "csrf": csrf}
        )
    assert denied.status_code == 403
    with store.reading() as conn:
        assert stored.latest_cases(conn, "shop") == []
