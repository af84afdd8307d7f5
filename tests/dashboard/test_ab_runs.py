"""Offline A/B runs on the dashboard (in-process): the Experiments page lists them fresh,
the Judge page lists the pairwise ones' position bias, and a hostile target name stays
text on both."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from liveeval.cli.ab import paired_json
from liveeval.stats.paired import paired_comparison
from liveeval.store.ab_runs import save_ab_run
from liveeval.store.database import Store
from tests.dashboard.test_pages import XSS
from tests.server.asgi import client
from tests.store.test_ab_runs import T0, ab_document

pytestmark = pytest.mark.anyio
ESCAPED = "&lt;script&gt;window.__xss=1&lt;/script&gt;"


def table(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.DOTALL)
    assert found is not None, html[:500]
    return found.group(1)


def rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.DOTALL)


def save(store: Store, document: dict[str, Any]) -> None:
    with store.writing() as conn:
        save_ab_run(conn, "shop", document, T0)


async def test_the_experiments_page_lists_runs_newest_first_and_read_fresh(store: Store) -> None:
    document = ab_document(a="python:app:" + XSS, b="cmd:./v2 " + XSS, pairwise=True)
    save(store, document)
    async with client(store) as http:
        first = await http.get("/ui/experiments", params={"project": "shop"})
        # stored after the page was shown: the next view lists it, with no cache between
        save(store, ab_document(T0 + timedelta(hours=1), a="python:app:v7", b="python:app:v8"))
        second = await http.get("/ui/experiments", params={"project": "shop"})
        other = await http.get("/ui/experiments", params={"project": "bank"})
    assert first.status_code == second.status_code == 200
    assert "<script>window.__xss" not in second.text
    assert 'href="javascript:' not in second.text
    [only] = rows(table(first.text, "ab-runs"))
    newest, hostile = rows(table(second.text, "ab-runs"))
    assert "python:app:v7" in newest and "python:app:v8" in newest
    assert f"python:app:{ESCAPED}" in hostile and f"cmd:./v2 {ESCAPED}" in hostile
    assert only == hostile
    low, high = document["comparison"]["ci"]
    assert hostile.startswith("<td>2026-11-30 09:00</td>")
    figures = f"<td>0.400</td><td>1.000</td><td>+0.600 ({low:+.3f} … {high:+.3f})</td>"
    assert "<td>contains</td><td>5 of 6</td>" in hostile and figures in hostile
    # McNemar p = 0.25 on 3 discordant pairs: no winner
    assert "<td>0.2500</td>\n<td><strong>no significant difference</strong>" in hostile
    assert "<td>40.0%</td>" in hostile and "<td>–</td>" in newest  # flip rate, or none
    assert "No offline A/B run stored yet" in table(other.text, "ab-runs")


async def test_a_significant_difference_below_the_minimum_effect_is_not_called_none(
    store: Store,
) -> None:
    """B scores 0.01 higher on every case: p = 0, and smaller than 5% of the scale."""
    a = [0.5, 0.6, 0.7, 0.8, 0.9]
    document = ab_document()
    document["comparison"] = paired_json(paired_comparison(a, [x + 0.01 for x in a]))
    async with client(store) as http:
        posted = await http.post("/api/v1/experiments/ab", json=document)
        assert posted.status_code == 201, posted.text
        [listed] = (await http.get("/api/v1/experiments/ab")).json()
        page = await http.get("/ui/experiments")
    assert listed["verdict"] == "below_min_effect"
    [run] = rows(table(page.text, "ab-runs"))
    assert "<strong>significant, but smaller than the minimum effect</strong>" in run
    assert "no significant difference" not in run


async def test_the_judge_page_lists_the_position_bias_of_pairwise_runs_only(
    store: Store,
) -> None:
    save(store, ab_document(a="python:app:" + XSS, b="python:app:v2", pairwise=True))
    save(store, ab_document(T0 + timedelta(hours=1), a="python:app:graded-only"))
    async with client(store) as http:
        page = await http.get("/ui/judge", params={"project": "shop"})
        empty = await http.get("/ui/judge", params={"project": "bank"})
    assert page.status_code == 200
    assert "<script>window.__xss" not in page.text
    [run] = rows(table(page.text, "position-bias"))
    assert f"python:app:{ESCAPED}" in run and "graded-only" not in page.text
    assert "<td>5</td><td>2</td><td>40.0%</td>" in run  # pairs judged, flipped, rate
    assert "quality" in run
    assert "No pairwise run yet" in table(empty.text, "position-bias")


async def test_a_run_over_mixed_graders_shows_a_verdict_per_grader(store: Store) -> None:
    a = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    b = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    document = ab_document()
    pass_fail = paired_json(paired_comparison(a, b, binary=True))
    document["comparison"] = None
    document["by_grader"] = [
        {"grader": "pass/fail", "cases": 3, "pairs": 3, "scale": [0.0, 1.0], "comparison": None},
        {"grader": "judge:quality", "cases": 3, "pairs": 2, "scale": [1, 5], "comparison": None},
    ]
    document["by_grader"][0]["comparison"] = pass_fail
    async with client(store) as http:
        posted = await http.post("/api/v1/experiments/ab", json=document)
        assert posted.status_code == 201, posted.text
        page = await http.get("/ui/experiments")
    [run] = rows(table(page.text, "ab-runs"))
    shown = {"b_wins": "B wins", "no_difference": "no significant difference"}
    assert f"pass/fail: <strong>{shown[pass_fail['verdict']]}</strong> (3)" in run
    assert "judge:quality: <strong>too few pairs</strong> (2)" in run
