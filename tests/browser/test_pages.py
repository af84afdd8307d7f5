"""The dashboard in Debian's Chromium: every page renders without console errors, charts
draw, filters change what is shown, the review flow ends in the golden set, and a hostile
output stays inert. The `page` fixture fails any test whose page logged an error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import PageErrors
from tests.browser.seed import REFUND_QUESTION, XSS_OUTPUT, Seeded
from tests.conftest import RunningServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

PAGES = {
    "overview": "Overview",
    "interactions": "Interactions",
    "quality": "Quality",
    "drift": "Drift",
    "alerts": "Alerts",
    "review": "Review",
    "golden": "Golden set",
    "experiments": "Experiments",
    "judge": "Judge",
    "routing": "Routing",
}
# Painted pixels in a chart's canvases, read back from the canvas itself.
PAINTED = """(plot) => {
  let painted = 0;
  for (const canvas of plot.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  }
  return painted;
}"""
NO_INLINE_HANDLERS = """() => [...document.querySelectorAll('*')].filter(
  e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length"""
JAVASCRIPT_LINKS = """() => [...document.querySelectorAll('[href],[src],[action],[formaction]')]
  .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action')
       || e.getAttribute('formaction') || '')
  .filter(v => v.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase().startsWith('javascript:'))"""


def open_page(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="networkidle")
    assert response is not None
    assert response.status == 200, f"{url} answered {response.status}"


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_console_errors(
    page: Page, server: RunningServer, name: str
) -> None:
    open_page(page, f"{server.url}/ui/{name}")
    assert page.locator("nav a.active").inner_text() == PAGES[name]
    assert page.locator("main h1").first.is_visible()
    assert page.title().endswith("· shop")


def test_the_home_page_leads_to_the_overview(page: Page, server: RunningServer) -> None:
    open_page(page, f"{server.url}/ui/")
    assert page.url.startswith(f"{server.url}/ui/overview")


def test_an_interaction_page_shows_input_output_scores_and_signals(
    page: Page, server: RunningServer, seeded: Seeded
) -> None:
    open_page(page, f"{server.url}/ui/interactions/{seeded.refund_interaction_id}")
    main = page.locator("main")
    assert REFUND_QUESTION in main.inner_text()
    assert "Refunds take 90 days." in main.inner_text()
    assert "thumbs_down" in main.inner_text()
    assert main.locator(f"a[href='/ui/review/{seeded.review_item_id}']").count() == 1


def test_a_missing_interaction_is_a_404_page(
    page_errors: tuple[Page, PageErrors], server: RunningServer
) -> None:
    page, errors = page_errors
    response = page.goto(f"{server.url}/ui/interactions/999999")
    assert response is not None and response.status == 404
    assert "interaction 999999 does not exist" in page.inner_text("body").lower()
    assert [line for line in errors.lines if "404" not in line] == []


@pytest.mark.parametrize("name", ["overview", "quality"])
def test_charts_draw(page: Page, server: RunningServer, name: str) -> None:
    open_page(page, f"{server.url}/ui/{name}?days=14")
    plots = page.locator("[data-chart]")
    assert plots.count() >= 2
    drawn = 0
    for k in range(plots.count()):
        plot = plots.nth(k)
        data = json.loads(page.locator(f"script#{plot.get_attribute('data-chart')}").inner_text())
        if not has_values(data):
            continue
        plot.locator("canvas").first.wait_for()
        assert plot.evaluate(PAINTED) > 1000, f"chart {plot.get_attribute('data-chart')} blank"
        drawn += 1
    assert drawn >= 1, "the seeded traffic gave no chart any data"


def test_chart_legends_show_series_with_n_not_band_edges(
    page: Page, server: RunningServer, tmp_path: Any
) -> None:
    """A band is drawn, not listed as series; hovering a point shows its value and n; the
    y axis keeps the judge's scale (checked on the data in test_series, seen here)."""
    open_page(page, f"{server.url}/ui/quality?days=14")
    plot = page.locator("[data-chart='mean']")
    plot.locator("canvas").first.wait_for()
    legend = plot.locator(".u-legend .u-series")
    labels = [
        legend.nth(k).locator(".u-label").inner_text()
        for k in range(legend.count())
        if legend.nth(k).is_visible()
    ]
    assert labels and not any(" low" in x or " high" in x or "band" in x for x in labels), labels
    box = plot.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] / 2)
    hovered = plot.locator(".u-legend").inner_text()
    rate = page.locator("[data-chart='rate-error']")
    rate_box = rate.locator(".u-over").bounding_box()
    assert rate_box is not None
    page.mouse.move(rate_box["x"] + rate_box["width"] * 0.98, rate_box["y"] + 10)
    assert "n=" in rate.locator(".u-legend").inner_text() or "n=" in hovered
    page.screenshot(path=str(tmp_path / "quality.png"), full_page=True)


def test_quality_charts_mark_the_new_prompt_and_model_on_the_time_axis(
    page: Page, server: RunningServer
) -> None:
    """The seed's v2 traffic, on gpt-4o-2024-11-20, starts 3 days ago: both are marked
    with a labelled line on each drawn chart; v1 and the old model, there from the start,
    are not."""
    open_page(page, f"{server.url}/ui/quality?days=14")
    plot = page.locator("[data-chart='mean']")
    plot.locator(".u-over .marker").first.wait_for()
    labels = plot.locator(".u-over .marker").all_inner_texts()
    assert sorted(labels) == ["model gpt-4o-2024-11-20", "prompt v2"], labels
    assert page.locator("[data-chart='rate-error'] .u-over .marker").count() == 2


def has_values(data: dict[str, Any]) -> bool:
    """Whether a chart's JSON (`{"x": [...], "series": [{"values": [...]}]}`) holds a point."""
    return any(v is not None and v != 0 for s in data["series"] for v in s["values"])


def routes_shown(page: Page) -> list[str]:
    """The route column of the interactions table."""
    headers = page.locator("#interactions thead th").all_inner_texts()
    column = headers.index("route") + 1
    return page.locator(f"#interactions tbody tr td:nth-child({column})").all_inner_texts()


def test_a_filter_on_the_interactions_page_changes_what_is_shown(
    page: Page, server: RunningServer
) -> None:
    open_page(page, f"{server.url}/ui/interactions")
    before = routes_shown(page)
    assert {"support", "billing"} <= set(before)

    page.locator("form.filters input[name=route]").fill("billing")
    with page.expect_navigation():
        page.locator("form.filters button").click()
    assert "route=billing" in page.url
    after = routes_shown(page)
    assert after and set(after) == {"billing"}

    page.locator("form.filters input[name=route]").fill("")
    page.locator("form.filters input[name=language]").fill("xx")
    with page.expect_navigation():
        page.locator("form.filters button").click()
    assert page.locator("#interactions tbody").inner_text().strip() == "No interaction matches."


def test_the_review_flow_promotes_a_case_that_appears_in_the_golden_set(
    page: Page, server: RunningServer, seeded: Seeded
) -> None:
    open_page(page, f"{server.url}/ui/golden")
    assert case_ids(page) == [seeded.promoted_case_id]  # promoted by the seed

    # from the queue, through the failure pattern's group, to the item
    open_page(page, f"{server.url}/ui/review")
    item_link = f"#items a[href='/ui/review/{seeded.review_item_id}']"
    groups = page.locator("#groups a[href*='group=']")
    assert groups.count() >= 1
    for k in range(groups.count()):
        with page.expect_navigation():
            page.locator("#groups a[href*='group=']").nth(k).click()
        if page.locator(item_link).count():
            break
    with page.expect_navigation():
        page.locator(item_link).click()
    assert page.url == f"{server.url}/ui/review/{seeded.review_item_id}"
    assert page.locator("#input").inner_text() == REFUND_QUESTION

    submit(page, "triage", {"state": "real_failure", "reviewer": "alice"})
    submit(page, "score", {"value": "1", "reviewer": "alice"})
    submit(
        page,
        "expected",
        {
            "behaviour": "Say refunds arrive within 5 business days.",
            "grader_type": "contains",
            "grader_value": "5 business days",
            "tags": "refunds",
            "reviewer": "alice",
        },
    )
    submit(page, "promote", {"reviewer": "bob"})
    assert "promoted" in page.locator("main h1").inner_text()
    events = page.locator("ol.events li").all_inner_texts()
    assert [e.split(" by ")[0] for e in events][-4:] == [
        "triaged",
        "scored",
        "expected",
        "promoted",
    ]
    case_link = page.locator("dl.facts a[href*='case=']")
    new_case = case_link.inner_text()

    with page.expect_navigation():
        case_link.click()
    assert sorted(case_ids(page)) == sorted([seeded.promoted_case_id, new_case])
    row = page.locator("#cases tr", has=page.locator(f"a:text-is('{new_case}')"))
    assert "frozen regression" in row.inner_text()
    version = page.locator("div.version").inner_text()
    assert REFUND_QUESTION in version
    assert "Say refunds arrive within 5 business days." in version


def case_ids(page: Page) -> list[str]:
    return page.locator("#cases tbody td:first-child a").all_inner_texts()


def submit(page: Page, action: str, fields: dict[str, str]) -> None:
    """Fill and send the item page's form that posts to `.../<action>`; no error shown."""
    form = page.locator(f"form[action$='/{action}']")
    assert form.count() == 1, f"no single form posting to /{action}"
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.count() == 0 and name == "reviewer":
            continue  # the reviewer's name is optional
        tag = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            field.first.select_option(value)
        elif tag.endswith(":radio"):
            form.locator(f"[name={name}][value='{value}']").check()
        else:
            field.first.fill(value)
    with page.expect_navigation():
        form.locator("button, input[type=submit]").first.click()
    assert "error=" not in page.url, f"/{action} failed: {page.locator('main').inner_text()}"


@pytest.mark.parametrize("where", ["interaction", "interactions", "review_item"])
def test_a_hostile_output_stays_inert_text(
    page: Page, server: RunningServer, seeded: Seeded, where: str
) -> None:
    if where == "interaction":
        url = f"/ui/interactions/{seeded.xss_interaction_id}"
    elif where == "interactions":
        url = "/ui/interactions?hours=24"
    else:
        open_page(page, f"{server.url}/ui/interactions/{seeded.xss_interaction_id}")
        url = page.locator("main a[href^='/ui/review/']").first.get_attribute("href") or ""
        assert url
    open_page(page, f"{server.url}{url}")
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.evaluate(JAVASCRIPT_LINKS) == []
    assert page.evaluate(NO_INLINE_HANDLERS) == 0
    text = page.locator("main").inner_text()
    shown = XSS_OUTPUT if where != "interactions" else XSS_OUTPUT[:60]
    assert shown[:60] in text, "the payload should be visible, as text"
    if where != "interactions":
        assert XSS_OUTPUT in text
