"""Regression runs reported to the server: the history of the golden set's results, per
snapshot, commit and release."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model.regression import OfflinePoint
from liveeval.store.schema import regression_runs


def save_regression_run(
    conn: sa.Connection, project: str, run: dict[str, Any], gate_passed: bool, now: datetime
) -> int:
    """Store a run as `Run.to_json()` describes it; returns its id."""
    result = conn.execute(
        regression_runs.insert().values(
            project=project,
            snapshot=run["snapshot"],
            git_commit=run.get("git_commit"),
            prompt_version=run.get("prompt_version"),
            target=run["target"],
            started_at=datetime.fromisoformat(run["started_at"]),
            finished_at=datetime.fromisoformat(run["finished_at"]),
            cases=run["cases"],
            passed=run["passed"],
            failed=run["failed"],
            errors=run["errors"],
            pass_rate=run.get("pass_rate"),
            mean_score=run.get("mean_score"),
            gate_passed=gate_passed,
            results=[
                {k: r.get(k) for k in ("id", "version", "status", "score", "detail", "error_kind")}
                for r in run["results"]
            ],
            received_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_regression_runs(
    conn: sa.Connection,
    project: str,
    *,
    prompt_version: str | None = None,
    limit: int = 100,
    with_results: bool = False,
) -> list[dict[str, Any]]:
    """Runs, newest first."""
    c = regression_runs.c
    columns = [col for col in regression_runs.c if with_results or col.name != "results"]
    query = sa.select(*columns).where(c.project == project)
    if prompt_version is not None:
        query = query.where(c.prompt_version == prompt_version)
    query = query.order_by(c.started_at.desc(), c.run_id.desc()).limit(limit)
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for name in ("started_at", "finished_at", "received_at"):
            item[name] = item[name].isoformat()
        out.append(item)
    return out


def offline_points(conn: sa.Connection, project: str, since: datetime) -> list[OfflinePoint]:
    """Each stored run that names its release, oldest first: the offline side of the
    offline-vs-online series. Its level is the pass rate (a mean grader score mixes
    scales: 0..1 for most graders, the judge's for judge graders)."""
    c = regression_runs.c
    query = (
        sa.select(c.prompt_version, c.started_at, c.pass_rate, c.snapshot)
        .where(
            c.project == project,
            c.started_at >= since,
            c.prompt_version.is_not(None),
            c.pass_rate.is_not(None),
        )
        .order_by(c.started_at, c.run_id)
    )
    return [
        OfflinePoint(version, at, rate, None, snapshot)
        for version, at, rate, snapshot in conn.execute(query)
    ]


def run_projects(conn: sa.Connection, since: datetime) -> list[str]:
    """Projects with a regression run since `since`."""
    c = regression_runs.c
    query = sa.select(c.project).where(c.started_at >= since).distinct().order_by(c.project)
    return list(conn.execute(query).scalars())
