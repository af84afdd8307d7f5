"""The review queue and the golden set over HTTP, on a real uvicorn: a thumbs-down
followed to a frozen case, the errors each step answers, keys, and case JSONL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from liveeval.config import Settings
from liveeval.model import Role
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.conftest import RunningServer, run_server
from tests.flywheel.test_review_flow import T0, run_intake, store_interactions, thumbs_down

GRADER = {"type": "contains", "values": ["5 business days"]}


@pytest.fixture
def server(store: Store) -> Iterator[RunningServer]:
    settings = Settings(db=str(store.engine.url), default_project="shop")
    with run_server(store, settings) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def queued_items(store: Store, count: int = 1) -> list[int]:
    ids = store_interactions(
        store, [(f"When is my refund {k} due? jo@example.com", "90 days.") for k in range(count)]
    )
    for iid in ids:
        thumbs_down(store, iid)
    run_intake(store)
    return ids


def test_the_whole_flow_from_queue_to_frozen_case(
    server: RunningServer, http: httpx.Client
) -> None:
    [iid] = queued_items(server.store)
    groups = http.get("/api/v1/review/groups").json()
    assert [g["open_items"] for g in groups] == [1]
    items = http.get("/api/v1/review/items", params={"group_id": groups[0]["group_id"]}).json()
    [listed] = items
    assert listed["interaction_id"] == iid and listed["state"] == "open"
    assert "<EMAIL_ADDRESS>" in listed["input"]["text"]
    item_id = listed["item_id"]
    assert http.get(f"/api/v1/review/items/{item_id}").json()["events"][0]["action"] == "enqueued"

    base = f"/api/v1/review/items/{item_id}"
    r = http.post(f"{base}/triage", json={"state": "real_failure", "reviewer": "alice"})
    assert r.status_code == 200 and r.json()["state"] == "real_failure"
    r = http.post(f"{base}/score", json={"value": 1, "rubric": "helpfulness", "reviewer": "alice"})
    assert r.status_code == 200, r.text
    assert (r.json()["human_score"], r.json()["rubric"]) == (1, "helpfulness")
    body = {
        "expected": {"behaviour": "Refunds arrive within 5 business days."},
        "grader": GRADER,
        "tags": ["refunds"],
        "reviewer": "alice",
    }
    r = http.post(f"{base}/expected", json=body)
    assert r.status_code == 200 and r.json()["grader"] == GRADER
    r = http.post(f"{base}/promote", json={"reviewer": "bob", "case_id": "refund-due"})
    assert r.status_code == 201, r.text
    promoted = r.json()
    assert promoted["item"]["state"] == "promoted"
    assert promoted["case"]["id"] == "refund-due"

    listing = http.get("/api/v1/cases").json()
    [case] = listing["cases"]
    assert case == promoted["case"]
    assert case["frozen"] is True and case["regression"] is True
    assert case["source"]["interaction_id"] == iid
    assert listing["snapshot"].startswith("sha256:")
    events = http.get(f"/api/v1/review/items/{item_id}").json()["events"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("enqueued", "liveeval"),
        ("triaged", "alice"),
        ("scored", "alice"),
        ("expected", "alice"),
        ("promoted", "bob"),
    ]
    # promoted once: a second promotion and any triage are conflicts
    assert http.post(f"{base}/promote", json={}).status_code == 409
    r = http.post(f"{base}/triage", json={"state": "open"})
    assert r.status_code == 409 and "was promoted to case refund-due" in r.json()["detail"]


def test_errors_of_each_step(server: RunningServer, http: httpx.Client) -> None:
    queued_items(server.store)
    [item] = http.get("/api/v1/review/items").json()
    base = f"/api/v1/review/items/{item['item_id']}"

    r = http.get("/api/v1/review/items/999999")
    assert r.status_code == 404 and r.json()["detail"] == "review item 999999 does not exist"
    assert (
        http.post("/api/v1/review/items/999999/triage", json={"state": "open"}).status_code == 404
    )

    r = http.post(f"{base}/promote", json={})
    assert r.status_code == 409 and "only a real failure is promoted" in r.json()["detail"]

    bad = {"expected": {"output": "x"}, "grader": {"type": "regex", "pattern": "("}}
    r = http.post(f"{base}/expected", json=bad)
    assert r.status_code == 422 and "pattern does not compile" in r.json()["detail"]
    r = http.post(f"{base}/expected", json={"expected": {}, "grader": {"type": "exact"}})
    assert r.status_code == 422 and "exact grader needs" in r.json()["detail"]

    assert http.post(f"{base}/triage", json={"state": "promoted"}).status_code == 422
    r = http.post(f"{base}/score", json={"value": 7, "rubric": "quality"})
    assert r.status_code == 409 and "7 is not on the quality scale" in r.json()["detail"]
    r = http.post(f"{base}/triage", json={"state": "duplicate"})
    assert r.status_code == 409 and "needs `duplicate_of`" in r.json()["detail"]
    r = http.post(f"{base}/triage", json={"state": "real_failure"})
    assert r.status_code == 200
    r = http.post(f"{base}/promote", json={})
    assert r.status_code == 409 and "no expected behaviour and grader yet" in r.json()["detail"]


def test_the_candidates_endpoint_writes_jsonl(server: RunningServer, http: httpx.Client) -> None:
    queued_items(server.store, 2)
    items = http.get("/api/v1/review/items").json()
    http.post(f"/api/v1/review/items/{items[0]['item_id']}/triage", json={"state": "real_failure"})
    r = http.get("/api/v1/review/candidates")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    [line] = [json.loads(x) for x in r.content.splitlines()]
    assert line["review_item"] == items[0]["item_id"]
    assert line["id"] == f"review-{items[0]['item_id']}"
    assert line["input"] == items[0]["input"] and line["grader"] is None
    r = http.get("/api/v1/review/candidates", params={"state": "open"})
    assert len(r.content.splitlines()) == 1


def test_keys_a_read_key_reads_but_cannot_triage_or_promote(store: Store) -> None:
    queued_items(store)
    with store.writing() as conn:
        read = create_key(conn, "shop", Role.READ, None, T0)[1]
        admin = create_key(conn, "shop", Role.ADMIN, None, T0)[1]
        other = create_key(conn, "bank", Role.ADMIN, None, T0)[1]
    settings = Settings(db=str(store.engine.url), default_project="shop", require_keys=True)
    with run_server(store, settings) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/api/v1/review/items").status_code == 401
        as_read = {"authorization": f"Bearer {read}"}
        [item] = http.get("/api/v1/review/items", headers=as_read).json()
        base = f"/api/v1/review/items/{item['item_id']}"
        for step, body in [("triage", {"state": "real_failure"}), ("promote", {})]:
            r = http.post(f"{base}/{step}", json=body, headers=as_read)
            assert r.status_code == 403, step
        assert http.post("/api/v1/cases/import", content=b"", headers=as_read).status_code == 403
        # a key of another project does not see the item
        as_other = {"authorization": f"Bearer {other}"}
        assert http.get(base, headers=as_other).status_code == 404
        r = http.post(f"{base}/triage", json={"state": "real_failure"}, headers=as_other)
        assert r.status_code == 404
        as_admin = {"authorization": f"Bearer {admin}"}
        r = http.post(
            f"{base}/triage", json={"state": "real_failure", "reviewer": "alice"}, headers=as_admin
        )
        assert r.status_code == 200
        assert r.json()["updated_by"].startswith("alice (key ")
        assert http.get(base, headers=as_read).json()["state"] == "real_failure"


CASE_LINES = (
    b'{"id":"a","input":{"text":"2+2?"},"expected":{"output":"4"},'
    b'"grader":{"type":"exact"},"author":"al","created_at":"2026-11-20T09:00:00Z"}\n'
    b'{"id":"b","input":{"text":"hi"},"grader":{"type":"contains","values":["hello"]},'
    b'"author":"al","created_at":"2026-11-20T09:00:00Z"}\n'
)


def test_cases_export_import_retire_over_http(server: RunningServer, http: httpx.Client) -> None:
    r = http.post("/api/v1/cases/import", params={"dry_run": True}, content=CASE_LINES)
    assert r.status_code == 200 and r.json()["added"] == 2 and r.json()["dry_run"] is True
    assert http.get("/api/v1/cases").json()["cases"] == []
    r = http.post("/api/v1/cases/import", content=CASE_LINES)
    assert r.status_code == 200 and r.json()["added"] == 2
    snapshot = r.json()["snapshot"]

    exported = http.get("/api/v1/cases/export")
    assert exported.headers["x-liveeval-snapshot"] == snapshot
    assert [json.loads(x)["id"] for x in exported.content.splitlines()] == ["a", "b"]
    r = http.post("/api/v1/cases/import", content=exported.content)
    assert r.json()["unchanged"] == 2 and r.json()["snapshot"] == snapshot
    assert http.get("/api/v1/cases/export").content == exported.content

    r = http.post("/api/v1/cases/a/retire", json={"reason": "obsolete", "reviewer": "carol"})
    assert r.status_code == 200 and r.json()["retired"]["by"] == "carol"
    assert http.post("/api/v1/cases/a/retire", json={"reason": "again"}).status_code == 409
    assert http.post("/api/v1/cases/zz/retire", json={"reason": "x"}).status_code == 404
    assert [c["id"] for c in http.get("/api/v1/cases").json()["cases"]] == ["b"]
    listed = http.get("/api/v1/cases", params={"include_retired": True}).json()["cases"]
    assert [c["id"] for c in listed] == ["a", "b"]
    assert http.get("/api/v1/cases/a").json()["versions"][0]["retired"]["reason"] == "obsolete"
    assert http.get("/api/v1/cases/nope").status_code == 404


def test_cases_import_refuses_a_bad_line_and_a_frozen_edit(
    server: RunningServer, http: httpx.Client
) -> None:
    bad = (
        CASE_LINES
        + b'{"id":"c","input":{"text":"x"},"grader":{"type":"exact"},'
        + (b'"author":"al","created_at":"2026-11-20T09:00:00Z"}\n')
    )
    r = http.post("/api/v1/cases/import", content=bad)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("body:3: case: an exact grader needs")
    assert http.get("/api/v1/cases").json()["cases"] == []

    frozen = (
        b'{"id":"f","input":{"text":"x"},"grader":{"type":"contains","values":["y"]},'
        b'"regression":true,"frozen":true,"author":"al","created_at":"2026-11-20T09:00:00Z"}\n'
    )
    assert http.post("/api/v1/cases/import", content=frozen).status_code == 200
    edited = frozen.replace(b'["y"]', b'["z"]')
    r = http.post("/api/v1/cases/import", content=CASE_LINES + edited)
    assert r.status_code == 409 and "case f is frozen" in r.json()["detail"]
    assert [c["id"] for c in http.get("/api/v1/cases").json()["cases"]] == ["f"]


def test_the_case_schema_endpoint(http: httpx.Client) -> None:
    from liveeval.flywheel.case_file import case_json_schema

    r = http.get("/api/v1/cases/schema")
    assert r.status_code == 200 and r.json() == case_json_schema()
