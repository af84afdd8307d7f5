"""Offline A/B runs reported to the server (`liveeval ab --server`): which variants were
compared on which snapshot of the set, the paired comparison's figures, and the pairwise
judge's position-bias flip rate, beside the whole report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.store.schema import ab_runs


def primary_p_value(comparison: dict[str, Any]) -> float | None:
    """The p-value the verdict rests on: McNemar's for pass/fail scores, else the t-test's."""
    mcnemar = comparison.get("mcnemar")
    if mcnemar is not None:
        return float(mcnemar["p_value"])
    value = comparison.get("t_p_value")
    return None if value is None else float(value)


def save_ab_run(conn: sa.Connection, project: str, report: dict[str, Any], now: datetime) -> int:
    """Store a run as `liveeval ab --json` reports it (its variants, grader, comparison and
    flip rate become columns); returns its id."""
    comparison = report.get("comparison") or {}
    return insert_ab_run(
        conn,
        project,
        report,
        now,
        target_a=report["a"],
        target_b=report["b"],
        cases=len(report["results"]["a"]),
        compared=report["pairs"],
        comparison=comparison,
        p_value=primary_p_value(comparison) if comparison else None,
        flips=report.get("flip_rate") or {},
        grader=report.get("grader"),
        pairwise_rubric=report.get("pairwise_rubric"),
        git_commit=report.get("git_commit"),
    )


def insert_ab_run(
    conn: sa.Connection,
    project: str,
    report: dict[str, Any],
    now: datetime,
    *,
    target_a: str,
    target_b: str,
    cases: int,
    compared: int,
    comparison: dict[str, Any],
    p_value: float | None,
    flips: dict[str, Any],
    grader: str | None = None,
    pairwise_rubric: str | None = None,
    git_commit: str | None = None,
) -> int:
    """One row of `ab_runs` (an offline A/B run or a shadow run): the comparison's figures
    (verdict, means, difference, interval) and the flip rate's (n, flips, rate) become
    columns beside the whole report; returns its id."""
    ci = comparison.get("ci") or [None, None]
    result = conn.execute(
        ab_runs.insert().values(
            project=project,
            started_at=datetime.fromisoformat(report["started_at"]),
            snapshot=report["snapshot"],
            target_a=target_a,
            target_b=target_b,
            grader=grader,
            cases=cases,
            compared=compared,
            verdict=comparison.get("verdict"),
            mean_a=comparison.get("mean_a"),
            mean_b=comparison.get("mean_b"),
            difference=comparison.get("mean_difference"),
            ci_low=ci[0],
            ci_high=ci[1],
            p_value=p_value,
            pairwise_rubric=pairwise_rubric,
            pairwise_pairs=flips.get("n"),
            pairwise_flips=flips.get("flips"),
            pairwise_flip_rate=flips.get("rate"),
            git_commit=git_commit,
            report=report,
            received_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_ab_runs(
    conn: sa.Connection,
    project: str,
    limit: int = 100,
    *,
    with_report: bool = False,
    pairwise_only: bool = False,
) -> list[dict[str, Any]]:
    """Runs, newest first; `pairwise_only`: those with a position-bias flip rate."""
    c = ab_runs.c
    columns = [col for col in ab_runs.c if with_report or col.name != "report"]
    query = sa.select(*columns).where(c.project == project)
    if pairwise_only:
        query = query.where(c.pairwise_flip_rate.is_not(None))
    query = query.order_by(c.started_at.desc(), c.run_id.desc()).limit(limit)
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for name in ("started_at", "received_at"):
            item[name] = item[name].isoformat()
        out.append(item)
    mixed = [r["run_id"] for r in out if r["verdict"] is None and r["compared"] >= 2]
    if mixed:
        verdicts = grader_verdicts(conn, mixed)
        for item in out:
            item["by_grader"] = verdicts.get(item["run_id"], [])
    return out


def grader_verdicts(conn: sa.Connection, run_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per run, the verdict of each grader family (a golden set that mixes graders has no
    single comparison): grader, pairs, verdict."""
    query = sa.select(ab_runs.c.run_id, ab_runs.c.report).where(ab_runs.c.run_id.in_(run_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for run_id, report in conn.execute(query):
        found[run_id] = [
            {
                "grader": g.get("grader"),
                "pairs": g.get("pairs"),
                "verdict": (g.get("comparison") or {}).get("verdict"),
            }
            for g in (report or {}).get("by_grader") or []
        ]
    return found
