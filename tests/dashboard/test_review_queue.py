"""The review queue's pages: a page of items at a time with filters, the user's own words
on the item page, a link to the next item, and the reviewer's name remembered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from liveeval.model import Signal, SignalKind
from liveeval.store import review as queue
from liveeval.store.database import Store
from liveeval.store.signals import record_signal
from tests.flywheel.test_review_flow import T0, run_intake, store_interactions, thumbs_down
from tests.server.asgi import client

pytestmark = pytest.mark.anyio
ITEM_LINK = re.compile(r'href="/ui/review/(\d+)"')


def queue_of(store: Store, count: int) -> list[int]:
    texts = [(f"Question {k}: where is order {k * 7919}?", "No idea.") for k in range(count)]
    ids = store_interactions(store, texts)
    for iid in ids:
        thumbs_down(store, iid)
    run_intake(store)
    return ids


async def test_the_queue_shows_fifty_items_a_page_with_next_and_previous(store: Store) -> None:
    queue_of(store, 61)
    async with client(store) as http:
        first = await http.get("/ui/review", params={"project": "shop"})
        second = await http.get("/ui/review", params={"project": "shop", "page": 2})
        closed = await http.get("/ui/review", params={"project": "shop", "state": "promoted"})
        other = await http.get(
            "/ui/review", params={"project": "shop", "failure": "low_score:nothing"}
        )
    on_first = ITEM_LINK.findall(first.text)
    on_second = ITEM_LINK.findall(second.text)
    assert len(on_first) == 50 and len(on_second) == 11
    assert not set(on_first) & set(on_second)
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "page=2" in first.text
    assert ITEM_LINK.findall(closed.text) == []
    assert ITEM_LINK.findall(other.text) == []
    assert "<option selected>thumbs_down</option>" not in first.text
    assert "<option>thumbs_down</option>" in first.text


async def test_the_item_page_shows_the_users_comment_and_links_the_next_item(
    store: Store,
) -> None:
    [first, _] = queue_of(store, 2)
    with store.writing() as conn:
        comment = Signal(
            "shop",
            SignalKind.COMMENT,
            T0 + timedelta(minutes=1),
            interaction_id=first,
            text="It never told me where my parcel is!",
        )
        record_signal(conn, comment, T0 + timedelta(minutes=1))
    async with client(store) as http:
        page = await http.get("/ui/review/1")
        last = await http.get("/ui/review/2")
    assert "It never told me where my parcel is!" in page.text
    assert "thumbs_down" in page.text
    assert 'id="next-item" href="/ui/review/2"' in page.text
    assert 'id="next-item"' not in last.text


async def test_the_reviewers_name_is_remembered_for_the_next_form(store: Store) -> None:
    queue_of(store, 2)
    async with client(store) as http:
        page = await http.get("/ui/review/1")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        assert 'name="reviewer" value=""' in page.text
        done = await http.post(
            "/ui/review/1/triage",
            data={"state": "real_failure", "reviewer": "Ana", "csrf": token.group(1)},
        )
        assert done.status_code == 303
        after = await http.get("/ui/review/2")
    assert 'name="reviewer" value="Ana" required' in after.text


async def test_a_whole_group_is_triaged_at_once(store: Store) -> None:
    ids = store_interactions(store, [("Where is my parcel?", "No idea.")] * 3)
    for iid in ids:
        thumbs_down(store, iid)
    run_intake(store)
    with store.reading() as conn:
        items = queue.list_items(conn, queue.ItemFilter(project="shop"))
    [group] = {i.group_id for i in items}
    async with client(store) as http:
        page = await http.get("/ui/review", params={"project": "shop", "group": group})
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None and 'id="triage-group"' in page.text
        form = {"state": "not_failure", "reviewer": "Ana", "project": "shop"}
        refused = await http.post(f"/ui/review/groups/{group}/triage", data=form)
        assert refused.status_code == 403
        done = await http.post(
            f"/ui/review/groups/{group}/triage", data={**form, "csrf": token.group(1)}
        )
        assert done.status_code == 303
        shown = await http.get(done.headers["location"])
    assert "Triaged 3 items of group" in shown.text
    with store.reading() as conn:
        after = queue.list_items(conn, queue.ItemFilter(project="shop"))
    assert {i.state.value for i in after} == {"not_failure"}
