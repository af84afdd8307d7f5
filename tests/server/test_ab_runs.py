"""The offline A/B API (`/api/v1/experiments/ab`): what `liveeval ab --server` posts, who may
post and read, and the runs newest first per project; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from liveeval.model import Role
from liveeval.store.database import Store
from tests.server.asgi import client
from tests.server.test_runs import bearer, make_key
from tests.store.test_ab_runs import SNAPSHOT, T0, ab_document

pytestmark = pytest.mark.anyio
PATH = "/api/v1/experiments/ab"


async def post(http: httpx.AsyncClient, document: dict[str, Any], **kw: Any) -> httpx.Response:
    return await http.post(PATH, json=document, **kw)


async def test_a_posted_run_is_listed_with_its_figures(store: Store) -> None:
    document = ab_document(pairwise=True)
    async with client(store) as http:
        r = await post(http, document)
        assert r.status_code == 201, r.text
        assert r.json() == {"run_id": r.json()["run_id"], "project": "default"}
        [run] = (await http.get(PATH)).json()
        [full] = (await http.get(PATH, params={"report": "true"})).json()
    assert run["run_id"] == r.json()["run_id"]
    assert (run["target_a"], run["target_b"], run["snapshot"]) == (
        "python:app:v1",
        "python:app:v2",
        SNAPSHOT,
    )
    assert (run["cases"], run["compared"]) == (6, 5)
    assert run["verdict"] == document["comparison"]["verdict"]
    assert run["difference"] == pytest.approx(0.6)
    assert run["p_value"] == pytest.approx(document["comparison"]["mcnemar"]["p_value"])
    assert run["pairwise_flip_rate"] == pytest.approx(0.4)
    assert "report" not in run
    # the grader is stored as validated: its defaults written out
    grader = {"type": "contains", "values": ["5 business days"], "mode": "all"}
    assert full["grader"] == {**grader, "case_sensitive": False}
    report = full["report"]
    for name in ("started_at", "finished_at"):  # the same instants, written as pydantic does
        assert datetime.fromisoformat(report.pop(name)) == datetime.fromisoformat(
            document.pop(name)
        )
    assert report == {**document, "grader": full["grader"]}


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The pairwise document with the value at `path` replaced."""
    document = ab_document(pairwise=True)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


BAD_FIELDS: list[tuple[tuple[Any, ...], Any, list[Any]]] = [
    (("unexpected",), 1, ["body", "unexpected"]),
    (("snapshot",), "sha1:abc", ["body", "snapshot"]),
    (("started_at",), "2026-11-30T09:00:00", ["body", "started_at"]),  # no timezone
    (("a",), None, ["body", "a"]),
    (("pairs",), -1, ["body", "pairs"]),
    (("grader",), {"type": "fuzzy"}, ["body", "grader"]),
    (("comparison", "verdict"), "c_wins", ["body", "comparison", "verdict"]),
    (("comparison", "mcnemar", "p_value"), 1.5, ["body", "comparison", "mcnemar", "p_value"]),
    (("comparison", "extra"), 1, ["body", "comparison", "extra"]),
    (("flip_rate", "rate"), 2.0, ["body", "flip_rate", "rate"]),
    (("results", "a", 1, "status"), "skipped", ["body", "results", "a", 1, "status"]),
]
INCONSISTENT: list[tuple[tuple[Any, ...], Any, str]] = [
    (("pairs",), 4, "comparison.n (5) is not the pairs (4)"),
    (("results", "b", 0, "id"), "other", "must list the same cases in one order"),
    (("pairwise_rubric",), None, "a flip_rate needs the pairwise_rubric"),
    (("flip_rate", "flips"), 6, "flips (6) exceed the pairs judged (5)"),
]


async def test_a_bad_run_is_refused_with_where_and_why_and_nothing_is_stored(
    store: Store,
) -> None:
    async with client(store) as http:
        for path, value, where in BAD_FIELDS:
            r = await post(http, changed(path, value))
            assert r.status_code == 422, (path, r.text)
            assert [e["loc"][: len(where)] for e in r.json()["detail"]] == [where], r.text
        for path, value, message in INCONSISTENT:
            r = await post(http, changed(path, value))
            assert r.status_code == 422, (path, r.text)
            [error] = r.json()["detail"]
            assert message in error["msg"], (path, error)
        assert (await http.get(PATH)).json() == []


async def test_a_non_finite_number_is_refused_with_422(store: Store) -> None:
    infinite = json.dumps(ab_document()).replace('"mean_a": 0.4', '"mean_a": Infinity')
    assert "Infinity" in infinite
    async with client(store) as http:
        try:
            r = await http.post(
                PATH, content=infinite, headers={"content-type": "application/json"}
            )
        finally:
            assert (await http.get(PATH)).json() == []
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"][-1] == "mean_a" and error["input"] == "inf"


async def test_an_ingest_key_may_post_a_read_key_may_read(store: Store) -> None:
    ingest = make_key(store, "shop", Role.INGEST)
    read = make_key(store, "shop", Role.READ)
    async with client(store, require_keys=True) as http:
        assert (await post(http, ab_document())).status_code == 401
        refused = await post(http, ab_document(), headers=bearer(read))
        assert refused.status_code == 403
        assert refused.json()["detail"] == "this read key cannot ingest"
        stored = await post(http, ab_document(), headers=bearer(ingest))
        assert stored.status_code == 201, stored.text
        assert stored.json()["project"] == "shop"  # the key's project
        other = await post(http, ab_document(), headers=bearer(ingest), params={"project": "x"})
        assert other.status_code == 403

        assert (await http.get(PATH)).status_code == 401
        assert (await http.get(PATH, headers=bearer(ingest))).status_code == 403
        foreign = await http.get(PATH, headers=bearer(read), params={"project": "bank"})
        assert foreign.status_code == 403
        listed = await http.get(PATH, headers=bearer(read))
        assert listed.status_code == 200
        assert [r["run_id"] for r in listed.json()] == [stored.json()["run_id"]]


async def test_runs_are_newest_first_and_kept_per_project(store: Store) -> None:
    # posted out of order: the list follows when the run started, not when it arrived
    started = {"a": T0 + timedelta(hours=2), "b": T0, "c": T0 + timedelta(hours=5)}
    ids = {}
    async with client(store) as http:
        for name in ("a", "b", "c"):
            posted = await post(http, ab_document(started[name]), params={"project": "shop"})
            ids[posted.json()["run_id"]] = name
        await post(http, ab_document(), params={"project": "bank"})
        shop = (await http.get(PATH, params={"project": "shop"})).json()
        newest = (await http.get(PATH, params={"project": "shop", "limit": 1})).json()
        default = (await http.get(PATH)).json()
        bad_limit = await http.get(PATH, params={"limit": 0})
    assert [ids[r["run_id"]] for r in shop] == ["c", "a", "b"]
    assert {r["project"] for r in shop} == {"shop"}
    assert [ids[r["run_id"]] for r in newest] == ["c"]
    assert default == []  # the default project has none
    assert bad_limit.status_code == 422
