"""The page of one alert, where notifications lead: what moved, where, since when, the
evidence, and a link to the interactions behind it."""

from __future__ import annotations

import re
from dataclasses import replace
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


def fired(store: Store, project: str = "shop", resolved: bool = False) -> int:
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
    if resolved:
        alert = replace(alert, state=AlertState.RESOLVED, resolved_at=T0 - timedelta(hours=1))
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


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_acknowledging_and_silencing_need_the_csrf_token_and_show_on_the_page(
    store: Store,
) -> None:
    alert_id = fired(store)
    async with client(store) as http:
        before = await http.get(f"/ui/alerts/{alert_id}")
        assert "not yet" in before.text
        csrf = csrf_of(before.text)
        refused = await http.post(f"/ui/alerts/{alert_id}/ack", data={"by": "al"})
        assert refused.status_code == 403
        acked = await http.post(f"/ui/alerts/{alert_id}/ack", data={"by": "al", "csrf": csrf})
        silenced = await http.post(
            f"/ui/alerts/{alert_id}/silence", data={"by": "bo", "duration": "2h", "csrf": csrf}
        )
        too_long = await http.post(
            f"/ui/alerts/{alert_id}/silence", data={"by": "bo", "duration": "99d", "csrf": csrf}
        )
        after = await http.get(f"/ui/alerts/{alert_id}")
        api = (await http.get(f"/api/v1/alerts/{alert_id}")).json()
    assert acked.status_code == silenced.status_code == 303
    assert acked.headers["location"] == f"/ui/alerts/{alert_id}"
    assert too_long.status_code == 303 and "error=" in too_long.headers["location"]
    assert "by al at 2026-11-01 12:00 UTC" in after.text  # the test clock stands at T0
    assert "silenced until 2026-11-01 14:00 UTC by bo" in after.text
    assert api["acknowledged_by"] == "al" and api["acknowledged_at"].startswith("2026-11-01T12:00")


async def test_the_alerts_page_can_show_only_the_firing_alerts(store: Store) -> None:
    firing = fired(store)
    resolved = fired(store, project="shop", resolved=True)
    async with client(store) as http:
        everything = await http.get("/ui/alerts", params={"project": "shop"})
        only = await http.get("/ui/alerts", params={"project": "shop", "state": "firing"})
    shown = re.compile(r'href="/ui/alerts/(\d+)"')
    assert sorted(map(int, shown.findall(everything.text))) == sorted([firing, resolved])
    assert [int(i) for i in shown.findall(only.text)] == [firing]
    assert "firing only" in everything.text
