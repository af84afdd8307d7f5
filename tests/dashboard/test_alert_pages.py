"""The page of one alert, where notifications lead: what moved, where, since when, the
evidence, and a link to the interactions behind it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from liveeval.model.alert import Alert, AlertState, Severity
from liveeval.store.alerts import save_alert
from liveeval.store.database import Store
from tests.server.asgi import client
from tests.telemetry import T0

pytestmark = pytest.mark.anyio
NEW_MODEL = "gpt-4o-2024-11-20"


def fired(store: Store, project: str = "shop") -> int:
    alert = Alert(
        project=project,
        rule="regeneration-rate-rise",
        fingerprint=f"{project}|regeneration-rate-rise|model_served={NEW_MODEL}",
        state=AlertState.FIRING,
        severity=Severity.WARNING,
        metric="regenerated_rate",
        slice={"model_served": NEW_MODEL, "route": "/chat"},
        value=0.31,
        baseline=0.04,
        threshold=0.05,
        summary=f"regeneration-rate-rise: regenerated_rate rose from 4.0% to 31.0% for "
        f"model_served={NEW_MODEL}",
        started_at=T0 - timedelta(hours=2),
        updated_at=T0 - timedelta(minutes=5),
        details={"n": 812, "baseline_n": 20110, "evidence": 3.25},
    )
    with store.writing() as conn:
        saved = save_alert(conn, alert)
    assert saved.alert_id is not None
    return saved.alert_id


async def test_the_alert_page_shows_what_moved_and_links_the_interactions(store: Store) -> None:
    alert_id = fired(store)
    async with client(store) as http:
        shown = await http.get(f"/ui/alerts/{alert_id}")
        listed = await http.get("/ui/alerts", params={"project": "shop"})
    assert shown.status_code == 200
    html = shown.text
    assert "regenerated_rate rose from 4.0% to 31.0%" in html
    slice_shown = html.split('id="slice">', 1)[1].split("</dd>", 1)[0]
    assert sorted(slice_shown.split(", ")) == [f"model_served={NEW_MODEL}", "route=/chat"]
    assert "2026-11-01 10:00" in html  # since
    assert "firing" in html and "812" in html and "20110" in html  # state, evidence
    link = html.split('id="interactions" href="', 1)[1].split('"', 1)[0]
    path, query = urlsplit(link.replace("&amp;", "&"))[2:4]
    # The default rule's 7-day window before the alert began, up to now: 170 hours.
    assert path == "/ui/interactions"
    assert parse_qs(query) == {
        "project": ["shop"],
        "model": [NEW_MODEL],
        "route": ["/chat"],
        "hours": ["170"],
    }
    assert f'href="/ui/alerts/{alert_id}"' in listed.text  # the list leads to it


@pytest.mark.parametrize("alert_id", ["999", "0", "x"])
async def test_an_unknown_alert_is_not_found(store: Store, alert_id: str) -> None:
    fired(store)
    async with client(store) as http:
        answer = await http.get(f"/ui/alerts/{alert_id}")
    assert answer.status_code in (404, 422)
