"""The dashboard's page of one alert, `/ui/alerts/{id}`, where notifications lead: what
moved, on which slice, since when, the evidence, and links to the interactions behind it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from liveeval.config.monitor import MonitorConfig
from liveeval.dashboard.pages import _frame, _read
from liveeval.dashboard.render import page
from liveeval.dashboard.security import now_of
from liveeval.model.alert import Alert
from liveeval.server.params import ItemId
from liveeval.store.alerts import get_alert

router = APIRouter(prefix="/ui", include_in_schema=False)
MAX_HOURS = 24 * 90  # the interactions page's longest look back
# Slice dimensions the interactions page filters by, and its parameter for each.
_FILTERS = {
    "model_served": "model",
    "prompt_version": "prompt_version",
    "route": "route",
    "language": "language",
}


@router.get("/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: ItemId) -> Response:
    viewer, _, projects = await _frame(request, None)
    found = await _read(request, lambda conn: get_alert(conn, alert_id))
    if found is None or (viewer.project is not None and found.project != viewer.project):
        raise HTTPException(404, f"alert {alert_id} does not exist")
    settings = request.app.state.settings
    return page(
        request,
        "alerts_item.html",
        viewer,
        found.project,
        sorted({*projects, found.project}),
        alert=found,
        interactions=interactions_url(found, settings.monitor, now_of(request)),
        evidence=evidence_rows(found),
    )


def interactions_url(alert: Alert, config: MonitorConfig, now: datetime) -> str:
    """The interactions page filtered to the alert's slice, looking back over the rule's
    window before the alert started (the period the detector read)."""
    rule = next((r for r in config.active_rules() if r.name == alert.rule), None)
    window = rule.window if rule is not None else timedelta(days=1)
    hours = math.ceil((now - (alert.started_at - window)).total_seconds() / 3600)
    query: dict[str, Any] = {"project": alert.project}
    for dimension, value in alert.slice.items():
        if dimension in _FILTERS:
            query[_FILTERS[dimension]] = value
    query["hours"] = min(max(hours, 1), MAX_HOURS)
    return f"/ui/interactions?{urlencode(query)}"


def evidence_rows(alert: Alert) -> list[tuple[str, str]]:
    """The alert's details as (name, text) rows, nested values as compact text."""
    return [(str(key), _text(value)) for key, value in alert.details.items()]


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)
