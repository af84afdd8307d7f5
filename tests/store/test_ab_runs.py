"""Offline A/B runs in the store: a report as `liveeval ab --json` writes it goes in, its
figures come back as columns, newest first and per project; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liveeval.cli.ab import ab_json
from liveeval.gate.ab import AbRun
from liveeval.gate.results import CaseResult, Run, Status
from liveeval.stats.agreement import flip_rate
from liveeval.stats.paired import paired_comparison
from liveeval.store.ab_runs import list_ab_runs, save_ab_run
from liveeval.store.database import Store

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SNAPSHOT = "sha256:" + "cd" * 32
# A passes 2 of the 5 cases both sides answered, B all 5; "c5" errored on A's side
A_STATUS: tuple[Status, ...] = ("passed", "failed", "passed", "failed", "failed", "error")
B_STATUS: tuple[Status, ...] = ("passed",) * 6
# the pairwise judge's verdicts in both orders: two of the five flip
ORDERS = [("B", "A"), ("B", "A"), ("B", "A"), ("A", "A"), ("tie", "B")]


def _run(target: str, statuses: tuple[Status, ...], started_at: datetime) -> Run:
    results = tuple(
        CaseResult(
            f"c{k}",
            1,
            ("refunds",),
            status,
            "timeout: gave up" if status == "error" else f"grader says {status}",
            None if status == "error" else float(status == "passed"),
            None if status == "error" else f"answer {k} from {target}",
            error_kind="timeout" if status == "error" else None,
        )
        for k, status in enumerate(statuses)
    )
    return Run(target, SNAPSHOT, results, started_at, started_at + timedelta(seconds=3))


def ab_document(
    started_at: datetime = T0,
    *,
    a: str = "python:app:v1",
    b: str = "python:app:v2",
    pairwise: bool = False,
    git_commit: str | None = "c0ffee",
) -> dict[str, Any]:
    """A run as `liveeval ab --json` writes it, from the real statistics."""
    a_run, b_run = _run(a, A_STATUS, started_at), _run(b, B_STATUS, started_at)
    both = zip(a_run.results, b_run.results, strict=True)
    pairs = [(ra, rb) for ra, rb in both if ra.status != "error"]
    comparison = paired_comparison(
        [float(ra.status == "passed") for ra, _ in pairs],
        [float(rb.status == "passed") for _, rb in pairs],
        binary=True,
    )
    found = AbRun(a_run, b_run, len(pairs), ("c5",), comparison, (0.0, 1.0))
    if pairwise:
        found = AbRun(
            a_run,
            b_run,
            len(pairs),
            ("c5",),
            comparison,
            (0.0, 1.0),
            paired_comparison([0.0, 0.0, 0.0, 0.5, 0.5], [1.0, 1.0, 1.0, 0.5, 0.5]),
            (),
            ("c5: the judge's answer did not parse",),
            flip_rate(ORDERS),
        )
    grader = {"type": "contains", "values": ["5 business days"]}
    return ab_json(
        found,
        grader=grader,
        pairwise_rubric="quality" if pairwise else None,
        git_commit=git_commit,
    )


def test_a_run_round_trips_with_its_figures_as_columns(store: Store) -> None:
    document = ab_document(pairwise=True)
    with store.writing() as conn:
        run_id = save_ab_run(conn, "shop", document, T0 + timedelta(minutes=1))
    with store.reading() as conn:
        [run] = list_ab_runs(conn, "shop", with_report=True)
        [brief] = list_ab_runs(conn, "shop")
    comparison = document["comparison"]
    assert run["run_id"] == run_id
    assert (run["target_a"], run["target_b"], run["snapshot"]) == (
        "python:app:v1",
        "python:app:v2",
        SNAPSHOT,
    )
    assert run["grader"] == {"type": "contains", "values": ["5 business days"]}
    assert (run["cases"], run["compared"], run["verdict"]) == (6, 5, comparison["verdict"])
    assert (run["mean_a"], run["mean_b"]) == (pytest.approx(0.4), pytest.approx(1.0))
    assert run["difference"] == pytest.approx(0.6)
    assert [run["ci_low"], run["ci_high"]] == pytest.approx(comparison["ci"])
    assert run["p_value"] == pytest.approx(comparison["mcnemar"]["p_value"])  # pass/fail
    assert (run["pairwise_rubric"], run["pairwise_pairs"], run["pairwise_flips"]) == (
        "quality",
        5,
        2,
    )
    assert run["pairwise_flip_rate"] == pytest.approx(0.4)
    assert run["git_commit"] == "c0ffee"
    assert datetime.fromisoformat(run["started_at"]) == T0
    assert datetime.fromisoformat(run["received_at"]) == T0 + timedelta(minutes=1)
    assert run["report"] == document
    assert "report" not in brief and brief["run_id"] == run_id


def test_a_graded_score_run_rests_on_the_t_test_and_may_lack_a_comparison(store: Store) -> None:
    document = ab_document(pairwise=False, git_commit=None)
    document["comparison"]["mcnemar"] = None  # as for semantic or judge graders
    too_few = {**ab_document(T0 + timedelta(hours=1)), "comparison": None, "pairs": 1}
    with store.writing() as conn:
        save_ab_run(conn, "shop", document, T0)
        save_ab_run(conn, "shop", too_few, T0)
    with store.reading() as conn:
        newest, graded = list_ab_runs(conn, "shop")
    assert graded["p_value"] == pytest.approx(document["comparison"]["t_p_value"])
    assert (graded["pairwise_flip_rate"], graded["git_commit"]) == (None, None)
    assert (newest["verdict"], newest["mean_a"], newest["p_value"]) == (None, None, None)
    assert (newest["ci_low"], newest["ci_high"]) == (None, None)


def test_runs_are_newest_first_per_project_and_pairwise_ones_apart(store: Store) -> None:
    started = {"a": T0 + timedelta(hours=2), "b": T0, "c": T0 + timedelta(hours=5)}
    names = {}
    with store.writing() as conn:
        for name in ("a", "b", "c"):
            document = ab_document(started[name], pairwise=name != "c")
            names[save_ab_run(conn, "shop", document, T0)] = name
        save_ab_run(conn, "bank", ab_document(T0 + timedelta(days=1)), T0)
    with store.reading() as conn:
        every = list_ab_runs(conn, "shop")
        newest = list_ab_runs(conn, "shop", 1)
        pairwise = list_ab_runs(conn, "shop", pairwise_only=True)
        nobody = list_ab_runs(conn, "default")
    assert [names[r["run_id"]] for r in every] == ["c", "a", "b"]
    assert [names[r["run_id"]] for r in newest] == ["c"]
    assert [names[r["run_id"]] for r in pairwise] == ["a", "b"]
    assert {r["project"] for r in every} == {"shop"}
    assert nobody == []
