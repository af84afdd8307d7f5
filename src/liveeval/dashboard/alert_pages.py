"""The dashboard's page of one alert, `/ui/alerts/{id}`, where notifications lead: what
moved, on which slice, since when, the evidence, and links to the interactions behind it;
who acknowledged it and until when its rule is silenced, with the forms to do either
(an admin viewer and the CSRF token, as every form that changes state).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from liveeval.config.monitor import MonitorConfig
from liveeval.dashboard.pages import Str, _frame, _read
from liveeval.dashboard.render import page
from liveeval.dashboard.security import Viewer, check_csrf, now_of, viewer_of
from liveeval.model.alert import Alert
from liveeval.monitor.silencing import SILENCE_CHOICES, SilenceError, silence_end
from liveeval.server.params import ItemId
from liveeval.store.alerts import (
    Silence,
    acknowledge_alert,
    active_silences,
    get_alert,
    silence_rule,
)

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
async def alert_page(request: Request, alert_id: ItemId, error: Str = None) -> Response:
    viewer, _, projects = await _frame(request, None)
    now = now_of(request)

    def work(conn: Any) -> tuple[Alert, Silence | None] | None:
        found = get_alert(conn, alert_id)
        if found is None or (viewer.project is not None and found.project != viewer.project):
            return None
        return found, active_silences(conn, found.project, now).get(found.rule)

    values = await _read(request, work)
    if values is None:
        raise HTTPException(404, f"alert {alert_id} does not exist")
    found, silence = values
    settings = request.app.state.settings
    return page(
        request,
        "alerts_item.html",
        viewer,
        found.project,
        sorted({*projects, found.project}),
        alert=found,
        silence=silence,
        silence_choices=SILENCE_CHOICES,
        error=error,
        interactions=interactions_url(found, settings.monitor, now),
        evidence=evidence_rows(found),
    )


@router.post("/alerts/{alert_id}/ack")
async def acknowledge_form(
    request: Request,
    alert_id: ItemId,
    by: Annotated[str | None, Form(max_length=100)] = None,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    viewer = await _changer(request, csrf)
    now = now_of(request)

    def run() -> None:
        with request.app.state.store.writing() as conn:
            found = get_alert(conn, alert_id)
            if found is None or (viewer.project is not None and found.project != viewer.project):
                raise HTTPException(404, f"alert {alert_id} does not exist")
            acknowledge_alert(conn, alert_id, viewer.actor(by), now)

    await run_in_threadpool(run)
    return RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/silence")
async def silence_form(
    request: Request,
    alert_id: ItemId,
    duration: Annotated[str, Form(max_length=20)] = "2h",
    by: Annotated[str | None, Form(max_length=100)] = None,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    viewer = await _changer(request, csrf)
    now = now_of(request)
    config = request.app.state.settings.monitor

    def run() -> str | None:
        with request.app.state.store.writing() as conn:
            found = get_alert(conn, alert_id)
            if found is None or (viewer.project is not None and found.project != viewer.project):
                raise HTTPException(404, f"alert {alert_id} does not exist")
            try:
                until = silence_end(config, found.rule, duration, now)
            except SilenceError as exc:
                return str(exc)
            silence_rule(conn, found.project, found.rule, until, viewer.actor(by), now)
        return None

    problem = await run_in_threadpool(run)
    target = f"/ui/alerts/{alert_id}"
    if problem is not None:
        target += f"?{urlencode({'error': problem[:300]})}"
    return RedirectResponse(target, status_code=303)


async def _changer(request: Request, csrf: str | None) -> Viewer:
    viewer = await viewer_of(request)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot acknowledge or silence")
    return viewer


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
