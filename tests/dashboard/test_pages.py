"""The dashboard's pages over HTTP (in-process): each renders from a real store with data,
untrusted text stays text, state changes need an admin viewer and the CSRF token.
tests/browser drives the same pages in a real Chromium."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from liveeval.config import Settings
from liveeval.model import Interaction, Role
from liveeval.server import create_app
from liveeval.store.database import Store
from liveeval.store.evaluation_queue import enqueue
from liveeval.store.interactions import upsert_interactions
from liveeval.store.keys import create_key
from liveeval.store.rollups import refresh_rollups
from liveeval.store.schema import scores
from liveeval.store.scores import interaction_ids_by_span
from tests.conftest import Clock
from tests.flywheel.test_review_flow import run_intake, thumbs_down
from tests.monitor.traffic import Traffic, store_traffic
from tests.server.asgi import HOST, client, serve
from tests.server.watched import BROKEN, BUSY, GONE, RULES, THIN, store_watched
from tests.server.watched import COST as WATCHED_COST
from tests.server.watched import REGEN as WATCHED_REGEN
from tests.telemetry import span_id, trace_id

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # tests.conftest.Clock's
XSS = '<script>window.__xss=1</script><a href="javascript:alert(1)">click</a>'
PAGES = (
    "overview",
    "interactions",
    "quality",
    "drift",
    "alerts",
    "review",
    "golden",
    "experiments",
    "judge",
)


def scene(store: Store) -> int:
    store_traffic(store, Traffic(prompt_version="v1"), NOW - timedelta(hours=30), 60, 4, every=5)
    store_traffic(store, Traffic(prompt_version="v2"), NOW - timedelta(hours=3), 60, 4, seed=2)
    at = NOW - timedelta(hours=1)
    hostile = Interaction(
        project="shop",
        trace_id=trace_id(),
        span_id=span_id(),
        parent_span_id=None,
        name="chat",
        convention="genai",
        operation="chat",
        start_at=at,
        end_at=at,
        latency_ms=5.0,
        status="ok",
        input_text="Show me " + XSS,
        output_text="Sure: " + XSS,
        prompt_version="v2",
    )
    with store.writing() as conn:
        upsert_interactions(conn, [hostile], at)
        ids = interaction_ids_by_span(conn, "shop", [hostile.trace_id])
        refresh_rollups(conn)
    iid = ids[(hostile.trace_id, hostile.span_id)]
    thumbs_down(store, iid, at)
    run_intake(store)
    return iid


async def test_every_page_renders_and_untrusted_text_stays_text(store: Store) -> None:
    iid = scene(store)
    async with client(store) as http:
        for name in PAGES:
            response = await http.get(f"/ui/{name}", params={"project": "shop"})
            assert response.status_code == 200, (name, response.text[:500])
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert "<script>window.__xss" not in response.text
        detail = await http.get(f"/ui/interactions/{iid}")
        review = await http.get("/ui/review", params={"project": "shop", "group": 1})
    assert detail.status_code == 200
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in detail.text
    assert 'href="javascript:' not in detail.text
    assert "thumbs_down" in review.text


async def test_the_overview_says_how_far_the_checks_are_behind(store: Store) -> None:
    iid = scene(store)
    async with client(store) as http:
        caught_up = await http.get("/ui/overview", params={"project": "shop"})
    with store.writing() as conn:
        enqueue(conn, "shop", [iid], NOW - timedelta(minutes=12))
    async with client(store) as http:
        behind = await http.get("/ui/overview", params={"project": "shop"})
    assert 'id="evaluation-lag"' not in caught_up.text
    assert "Checks are ~12 min behind ingest: 1 interaction waiting for their checks" in behind.text


async def test_the_quality_charts_carry_a_marker_where_a_prompt_version_first_appears(
    store: Store,
) -> None:
    scene(store)  # v1 from 30 hours ago, v2 from 3 hours ago
    async with client(store) as http:
        response = await http.get("/ui/quality", params={"project": "shop", "days": 2})
    found = re.search(r'<script type="application/json" id="mean">(.*?)</script>', response.text)
    assert found is not None
    markers = json.loads(found.group(1))["markers"]
    v2_hour = (NOW - timedelta(hours=3)).replace(minute=0)
    assert markers == [{"x": int(v2_hour.timestamp()), "label": "prompt v2"}]


async def test_filters_change_the_interactions_shown(store: Store) -> None:
    scene(store)
    async with client(store) as http:
        everything = await http.get("/ui/interactions", params={"project": "shop", "hours": 72})
        only_v1 = await http.get(
            "/ui/interactions", params={"project": "shop", "prompt_version": "v1", "hours": 72}
        )
    rows = lambda html: re.findall(r'href="/ui/interactions/(\d+)"', html)  # noqa: E731
    assert len(rows(only_v1.text)) > 0
    assert set(rows(only_v1.text)) < set(rows(everything.text)) or len(rows(everything.text)) == 50
    assert "<td>v2</td>" not in only_v1.text


async def test_the_score_filter_lists_only_answers_the_judge_scored_that_low(store: Store) -> None:
    scene(store)
    async with client(store) as http:
        low = await http.get("/ui/interactions", params={"project": "shop", "score": "3"})
        bogus = await http.get("/ui/interactions", params={"project": "shop", "score": "nan"})
        everything = await http.get("/ui/interactions", params={"project": "shop"})
    listed = {int(i) for i in re.findall(r'href="/ui/interactions/(\d+)"', low.text)}
    with store.reading() as conn:
        scored_low = set(
            conn.execute(
                sa.select(scores.c.interaction_id).where(
                    scores.c.kind == "judge", scores.c.status == "ok", scores.c.value <= 3
                )
            ).scalars()
        )
    assert listed and listed <= scored_low
    assert '<option value="3" selected>' in low.text
    assert bogus.status_code == 200  # not a choice: no score filter
    assert re.findall(r'href="/ui/interactions/(\d+)"', bogus.text) == re.findall(
        r'href="/ui/interactions/(\d+)"', everything.text
    )


async def test_the_review_flow_needs_csrf_and_promotes_a_case(store: Store) -> None:
    scene(store)
    async with client(store) as http:
        page = await http.get("/ui/review/1")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        csrf = token.group(1)
        refused = await http.post(
            "/ui/review/1/triage", data={"state": "real_failure", "reviewer": "al"}
        )
        assert refused.status_code == 403
        steps = [
            ("triage", {"state": "real_failure"}),
            (
                "expected",
                {
                    "grader_type": "contains",
                    "grader_value": "5 business days",
                    "behaviour": "Refuse to echo markup.",
                },
            ),
            ("promote", {}),
        ]
        for step, data in steps:
            done = await http.post(
                f"/ui/review/1/{step}", data={**data, "csrf": csrf, "reviewer": "al"}
            )
            assert done.status_code == 303, (step, done.text[:300])
            assert "error=" not in done.headers["location"], done.headers["location"]
        golden = await http.get("/ui/golden", params={"project": "shop"})
    assert "review-1" in golden.text and "frozen regression" in golden.text


async def test_with_keys_required_a_read_key_looks_but_cannot_promote(store: Store) -> None:
    scene(store)
    with store.writing() as conn:
        _, read_key = create_key(conn, "shop", Role.READ, "viewer", NOW)
    async with client(store, require_keys=True) as http:
        first = await http.get("/ui/overview")
        assert first.status_code == 303 and first.headers["location"].startswith("/ui/login")
        login = await http.get(first.headers["location"])
        token = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert token is not None
        form = {"csrf": token.group(1), "next": "/ui/review/1"}
        wrong = await http.post("/ui/login", data={**form, "key": "nope"})
        assert wrong.status_code == 401
        signed = await http.post("/ui/login", data={**form, "key": read_key})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = await http.get("/ui/review/1")
        assert page.status_code == 200 and "cannot triage" in page.text
        csrf = http.cookies.get("liveeval_csrf")
        denied = await http.post("/ui/review/1/promote", data={"csrf": csrf, "reviewer": "x"})
    assert denied.status_code == 403


class SliRows(HTMLParser):
    """The overview's SLI table: each row's cells, whether it is folded into a <details>,
    and the folds' summaries."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[list[str], bool]] = []
        self.summaries: list[str] = []
        self.titles: dict[str, str] = {}  # detects cell text -> its title
        self._folded = self._in_summary = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self._folded = True
        elif tag == "summary":
            self._in_summary, self._cell = True, []
        elif tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell, self._title = [], dict(attrs).get("title") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._folded = False
        elif tag == "summary" and self._cell is not None:
            self.summaries.append("".join(self._cell).strip())
            self._in_summary, self._cell = False, None
        elif tag == "td" and self._row is not None and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._row.append(text)
            if self._title:
                self.titles[text] = self._title
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if len(self._row) == 8:  # not the row that holds a fold
                self.rows.append((self._row, self._folded))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def sli_rows(html: str) -> SliRows:
    table = html[html.index('<table class="slis">') : html.index('<div class="charts">')]
    parser = SliRows()
    parser.feed(table)
    return parser


async def test_the_overview_groups_slis_by_rule_and_folds_slices_too_thin_to_watch(
    store: Store,
) -> None:
    store_watched(store, NOW)
    hostile = Traffic(route=XSS)  # one request every 12 hours: too thin, folded
    store_traffic(store, hostile, NOW - timedelta(hours=54), 54 * 60, 1, seed=9, every=12 * 60)
    with store.writing() as conn:
        refresh_rollups(conn)
    rules = {"default_rules": False, "rules": RULES}
    async with client(store, default_project="shop", monitor=rules) as http:
        response = await http.get("/ui/overview", params={"project": "shop"})
    assert response.status_code == 200, response.text[:500]
    table = sli_rows(response.text)
    shown = [row[:2] + row[5:7] for row, folded in table.rows if not folded]
    folded = [row[1] + ": " + row[5] for row, folded in table.rows if folded]
    assert [row[:3] for row in shown] == [
        [WATCHED_REGEN, "all traffic", "breached"],
        [WATCHED_REGEN, f"route={BROKEN}", "breached"],
        [WATCHED_REGEN, f"route={BUSY}", "watching"],
        [WATCHED_COST, "all traffic", "watching"],
    ]
    assert re.fullmatch(r"\+0\.05 in ~[\d.]+ (min|h)", shown[2][3]), shown[2]
    assert shown[3][3] == "–"  # a threshold rule has no detector
    assert table.titles[shown[2][3]].startswith("sees 2 a minute; expected time to detect")
    assert table.summaries == ["2 slices too thin to detect their minimum effect, 1 with no data"]
    assert folded == [
        f"route={XSS}: too thin",
        f"route={THIN}: too thin",
        f"route={GONE}: no data",
    ]
    assert "<script>window.__xss" not in response.text
    assert "route=&lt;script&gt;window.__xss=1&lt;/script&gt;" in response.text


async def test_the_drift_page_takes_days_and_still_reads_the_old_hour_links(
    store: Store,
) -> None:
    scene(store)  # 48 interactions 30 hours ago, 241 in the last 3 hours
    app = create_app(Settings(db=str(store.engine.url), allowed_hosts=[HOST]), store, clock=Clock())
    async with serve(app) as http:
        pages = []
        for params in (
            {"window_days": "0.5", "baseline_days": "1.5"},
            {"window": "12", "baseline": "36"},
            {"window_days": "0.1", "baseline_days": "1.5"},
        ):
            await http.get("/ui/drift", params={"project": "shop", **params})
            app.state.drift_reports.wait(("shop", *drift_key_hours(params)), timeout=60)
            response = await http.get("/ui/drift", params={"project": "shop", **params})
            assert response.status_code == 200
            pages.append(response.text)
        bad = await http.get("/ui/drift", params={"window_days": "0"})
        old_default = await http.get("/ui/drift", params={"project": "shop"})
    app.state.drift_reports.close()
    days, hours, tenth = pages
    for text in (days, hours):
        assert "241 interactions in the window against 48 in the baseline" in text
        assert 'name="window_days" type="number" min="0" max="30" step="any" value="0.5"' in text
        assert 'name="baseline_days" type="number" min="0" max="60" step="any" value="1.5"' in text
        # each feature drawn in both periods: bars per category, a histogram for numbers
        assert '<svg class="shape bars"' in text and '<svg class="shape histogram"' in text
        assert "of the baseline," in text and "of the window</title>" in text
    # 2.4 hours: the last 24 of v2's 60 minutes (4 a minute) and the hostile one
    assert "97 interactions in the window against 192" in tenth
    assert 'value="0.1"' in tenth
    assert bad.status_code == 422
    assert 'value="1"' in old_default.text and 'value="7"' in old_default.text


def drift_key_hours(params: dict[str, str]) -> tuple[float, float]:
    """The drift page's cache key for these parameters: (window, baseline) in hours."""
    if "window" in params:
        return float(params["window"]), float(params["baseline"])
    return float(params["window_days"]) * 24, float(params["baseline_days"]) * 24
