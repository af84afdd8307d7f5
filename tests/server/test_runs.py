"""The runs API (`/api/v1/runs`): what `liveeval regress --server` posts, who may post and
read, and the history newest first; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from liveeval.gate.results import CaseResult, Run
from liveeval.model import Role
from liveeval.store.database import Store
from liveeval.store.keys import create_key
from tests.server.asgi import client

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SNAPSHOT = "sha256:" + "ab" * 32


def run_document(
    started_at: datetime = T0,
    *,
    prompt_version: str | None = "v7",
    git_commit: str | None = "c0ffee",
    exit_code: int = 1,
) -> dict[str, Any]:
    """A run as `liveeval regress` posts it: `Run.to_json()` plus the gate's result."""
    results = (
        CaseResult("refund", 1, ("regression",), "passed", "contains all of them", 1.0, "5 days"),
        CaseResult("tone", 2, (), "failed", "missing 'sorry'", 0.0, "No.", 12.5),
        CaseResult("slow", 1, (), "error", "timeout: gave up", error_kind="timeout"),
    )
    run = Run(
        "openai:http://app/v1",
        SNAPSHOT,
        results,
        started_at,
        started_at + timedelta(seconds=4),
        git_commit,
        prompt_version,
    )
    return {**run.to_json(), "exit_code": exit_code, "verdict": ["pass rate 50.0% < 90%"]}


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def make_key(store: Store, project: str, role: Role) -> str:
    with store.writing() as conn:
        return create_key(conn, project, role, None, T0)[1]


async def post(http: httpx.AsyncClient, document: dict[str, Any], **kw: Any) -> httpx.Response:
    return await http.post("/api/v1/runs", json=document, **kw)


async def test_a_posted_run_is_listed_with_its_counts(store: Store) -> None:
    async with client(store) as http:
        r = await post(http, run_document())
        assert r.status_code == 201, r.text
        assert r.json() == {"run_id": r.json()["run_id"], "project": "default"}
        [run] = (await http.get("/api/v1/runs")).json()
    assert run["run_id"] == r.json()["run_id"]
    assert (run["snapshot"], run["git_commit"], run["prompt_version"]) == (SNAPSHOT, "c0ffee", "v7")
    assert (run["cases"], run["passed"], run["failed"], run["errors"]) == (3, 1, 1, 1)
    assert run["pass_rate"] == pytest.approx(0.5)
    assert run["mean_score"] == pytest.approx(0.5)
    assert run["gate_passed"] is False
    assert datetime.fromisoformat(run["started_at"]) == T0
    assert datetime.fromisoformat(run["finished_at"]) == T0 + timedelta(seconds=4)
    assert "results" not in run


async def test_results_are_returned_when_asked(store: Store) -> None:
    async with client(store) as http:
        assert (await post(http, run_document(exit_code=0))).status_code == 201
        [run] = (await http.get("/api/v1/runs", params={"results": "true"})).json()
    assert run["gate_passed"] is True
    assert run["results"] == [
        {
            "id": "refund",
            "version": 1,
            "status": "passed",
            "score": 1.0,
            "detail": "contains all of them",
            "error_kind": None,
        },
        {
            "id": "tone",
            "version": 2,
            "status": "failed",
            "score": 0.0,
            "detail": "missing 'sorry'",
            "error_kind": None,
        },
        {
            "id": "slow",
            "version": 1,
            "status": "error",
            "score": None,
            "detail": "timeout: gave up",
            "error_kind": "timeout",
        },
    ]


JSON = {"content-type": "application/json"}
BAD_RUNS: list[tuple[dict[str, Any], list[Any]]] = [
    ({"unexpected": 1}, ["body", "unexpected"]),
    ({"snapshot": "sha1:abc"}, ["body", "snapshot"]),
    ({"snapshot": "sha256:" + "AB" * 32}, ["body", "snapshot"]),
    ({"exit_code": 3}, ["body", "exit_code"]),
    ({"pass_rate": 1.5}, ["body", "pass_rate"]),
    ({"pass_rate": float("nan")}, ["body", "pass_rate"]),  # JSON has no NaN: echoed as text
    ({"started_at": "yesterday"}, ["body", "started_at"]),
    ({"target": None}, ["body", "target"]),
]
BAD_RESULTS: list[tuple[dict[str, Any], str]] = [
    ({"status": "skipped"}, "status"),
    ({"version": 0}, "version"),
    ({"extra": 1}, "extra"),
]


async def test_a_bad_run_is_refused_with_the_field_and_nothing_is_stored(store: Store) -> None:
    async with client(store) as http:
        for change, where in BAD_RUNS:
            body = json.dumps({**run_document(), **change})  # NaN as JavaScript writes it
            r = await http.post("/api/v1/runs", content=body, headers=JSON)
            assert r.status_code == 422, (change, r.text)
            assert [e["loc"] for e in r.json()["detail"]] == [where]
        for change, field in BAD_RESULTS:  # a case result: named by its index
            document = run_document()
            document["results"][1] = {**document["results"][1], **change}
            r = await post(http, document)
            assert r.status_code == 422, (change, r.text)
            assert [e["loc"] for e in r.json()["detail"]] == [["body", "results", 1, field]]
        assert (await http.get("/api/v1/runs")).json() == []


async def test_an_ingest_key_may_post_a_read_key_may_not(store: Store) -> None:
    ingest = make_key(store, "shop", Role.INGEST)
    read = make_key(store, "shop", Role.READ)
    async with client(store, require_keys=True) as http:
        assert (await post(http, run_document())).status_code == 401
        refused = await post(http, run_document(), headers=bearer(read))
        assert refused.status_code == 403
        assert refused.json()["detail"] == "this read key cannot ingest"
        stored = await post(http, run_document(), headers=bearer(ingest))
        assert stored.status_code == 201, stored.text
        assert stored.json()["project"] == "shop"  # the key's project
        other = await post(http, run_document(), headers=bearer(ingest), params={"project": "x"})
        assert other.status_code == 403

        assert (await http.get("/api/v1/runs")).status_code == 401
        assert (await http.get("/api/v1/runs", headers=bearer(ingest))).status_code == 403
        listed = await http.get("/api/v1/runs", headers=bearer(read))
        assert listed.status_code == 200
        assert [r["run_id"] for r in listed.json()] == [stored.json()["run_id"]]


async def test_runs_are_kept_per_project(store: Store) -> None:
    async with client(store) as http:
        await post(http, run_document(), params={"project": "shop"})
        await post(http, run_document(), params={"project": "bank"})
        shop = (await http.get("/api/v1/runs", params={"project": "shop"})).json()
        assert [r["project"] for r in shop] == ["shop"]
        assert (await http.get("/api/v1/runs")).json() == []  # the default project has none


async def test_runs_are_newest_first_and_filtered_by_release(store: Store) -> None:
    # posted out of order: the list follows when the run started, not when it arrived
    started = {"a": T0 + timedelta(hours=2), "b": T0, "c": T0 + timedelta(hours=5)}
    releases = {"a": "v7", "b": "v7", "c": "v8"}
    ids = {}
    async with client(store) as http:
        for name in ("a", "b", "c"):
            document = run_document(started[name], prompt_version=releases[name])
            ids[(await post(http, document)).json()["run_id"]] = name
        everything = (await http.get("/api/v1/runs")).json()
        v7 = (await http.get("/api/v1/runs", params={"prompt_version": "v7"})).json()
        newest = (await http.get("/api/v1/runs", params={"limit": 1})).json()
        none = (await http.get("/api/v1/runs", params={"prompt_version": "v9"})).json()
        bad_limit = await http.get("/api/v1/runs", params={"limit": 0})
    assert [ids[r["run_id"]] for r in everything] == ["c", "a", "b"]
    assert [ids[r["run_id"]] for r in v7] == ["a", "b"]
    assert {r["prompt_version"] for r in v7} == {"v7"}
    assert [ids[r["run_id"]] for r in newest] == ["c"]
    assert none == []
    assert bad_limit.status_code == 422


async def test_a_run_without_commit_or_release_is_stored(store: Store) -> None:
    async with client(store) as http:
        document = run_document(prompt_version=None, git_commit=None)
        assert (await post(http, document)).status_code == 201
        [run] = (await http.get("/api/v1/runs")).json()
        assert (run["git_commit"], run["prompt_version"]) == (None, None)
        assert (await http.get("/api/v1/runs", params={"prompt_version": "v7"})).json() == []
