"""Adding an interaction to the golden set from its dashboard page: one form, with the
CSRF token, that files it in the review queue and promotes it to a frozen case."""

from __future__ import annotations

import re

import pytest

from liveeval.store import cases as stored
from liveeval.store import review as queue
from liveeval.store.database import Store
from tests.flywheel.test_review_flow import store_interactions
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
FORM = {
    "grader_type": "contains",
    "grader_value": "5 business days",
    "behaviour": "Say refunds arrive within 5 business days.",
    "tags": "refunds, from-ui",
    "reviewer": "Ana",
}


async def test_an_interaction_becomes_a_frozen_case_from_its_page(store: Store) -> None:
    [iid] = store_interactions(
        store, [("I am jo@example.com, when is my refund due?", "Refunds take 90 days.")]
    )
    async with client(store, privacy={"ner": "off"}) as http:
        page = await http.get(f"/ui/interactions/{iid}")
        assert 'id="add-golden"' in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        refused = await http.post(f"/ui/interactions/{iid}/golden", data=FORM)
        assert refused.status_code == 403
        done = await http.post(
            f"/ui/interactions/{iid}/golden", data={**FORM, "csrf": token.group(1)}
        )
        assert done.status_code == 303, done.text[:300]
        assert done.headers["location"] == "/ui/golden?project=shop&case=review-1"
        again = await http.get(f"/ui/interactions/{iid}")
    with store.reading() as conn:
        [case] = stored.latest_cases(conn, "shop")
        item = queue.item_of_interaction(conn, iid)
    assert case.regression and case.frozen and case.author.startswith("Ana")
    assert case.input.text == "I am <EMAIL_ADDRESS>, when is my refund due?"
    assert {"refunds", "from-ui"} <= set(case.tags)
    assert item is not None and item.state.value == "promoted"
    assert item.reasons[0].kind.value == "manual"
    assert 'id="add-golden"' not in again.text  # promoted: nothing more to add


async def test_a_grader_that_does_not_fit_comes_back_as_an_error_and_files_nothing(
    store: Store,
) -> None:
    [iid] = store_interactions(store, [("When is my refund due?", "Refunds take 90 days.")])
    async with client(store, privacy={"ner": "off"}) as http:
        page = await http.get(f"/ui/interactions/{iid}")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        form = {**FORM, "grader_type": "exact", "grader_value": "", "csrf": token.group(1)}
        done = await http.post(f"/ui/interactions/{iid}/golden", data=form)
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/ui/interactions/{iid}?error=")
        shown = await http.get(done.headers["location"])
    assert "exact grader needs" in shown.text
    with store.reading() as conn:
        assert queue.item_of_interaction(conn, iid) is None
        assert stored.latest_cases(conn, "shop") == []
