"""GET /api/v1/judge/status."""

from __future__ import annotations

import pytest

from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.store import jobs
from liveeval.store.database import Store
from liveeval.store.scores import insert_score
from tests.server.asgi import client
from tests.store.stored import stored_interactions
from tests.telemetry import T0

pytestmark = pytest.mark.anyio


def judged(iid: int, mismatch: bool, status: ScoreStatus = ScoreStatus.OK) -> Score:
    return Score(
        project="shop",
        interaction_id=iid,
        name="quality",
        kind=ScoreKind.JUDGE,
        value=None if status == ScoreStatus.ERROR else 4.0,
        status=status,
        details={"model_mismatch": mismatch},
        created_at=T0,
    )


async def test_status_counts_the_queue_mismatches_and_errors(store: Store) -> None:
    a, b, c, d = stored_interactions(store, 4)
    with store.writing() as conn:
        insert_score(conn, judged(a, False), None)
        insert_score(conn, judged(b, True), None)
        insert_score(conn, judged(c, True), None)
        insert_score(conn, judged(c, False, ScoreStatus.ERROR), None)
        jobs.enqueue(conn, [jobs.NewJob("shop", d, "quality", "v", 3, "uniform")], T0)
    async with client(store) as http:
        response = await http.get("/api/v1/judge/status", params={"project": "shop"})
        other = await http.get("/api/v1/judge/status", params={"project": "other"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_mismatches"], body["judge_errors"]) == (2, 1)
    assert body["jobs"] == {"queued": 1, "leased": 0, "done": 0, "dead": 0}
    assert body["provider"] == "none" and body["rubrics"] == ["quality"]
    assert other.json()["model_mismatches"] == 0


async def test_calibration_lists_runs_per_judge_version_newest_first(store: Store) -> None:
    from datetime import timedelta

    from liveeval.store.calibration import save_run

    with store.writing() as conn:
        for hours, version, passed in ((0, "v1", True), (2, "v2", False)):
            save_run(
                conn,
                "shop",
                "quality",
                version,
                "gpt-4o",
                source="calibration_set",
                trigger="model_change",
                n=30,
                metrics={"kappa_quadratic": {"value": 0.7 if passed else 0.2}},
                floor=0.6,
                passed=passed,
                now=T0 + timedelta(hours=hours),
            )
    async with client(store) as http:
        response = await http.get("/api/v1/judge/calibration", params={"project": "shop"})
        other = await http.get("/api/v1/judge/calibration", params={"project": "lab"})
    assert response.status_code == 200
    assert [(r["judge_version"], r["passed"]) for r in response.json()] == [
        ("v2", False),
        ("v1", True),
    ]
    assert other.json() == []
