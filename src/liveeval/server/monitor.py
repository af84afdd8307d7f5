"""The monitor over HTTP: /metrics for Prometheus, SLIs, alerts and drift reports."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from liveeval.config.sampling import parse_window
from liveeval.model.alert import Alert
from liveeval.model.slices import DIMENSIONS
from liveeval.monitor.detectability_text import status_of
from liveeval.monitor.drift_run import run_drift
from liveeval.monitor.evaluation import evaluate_project, rule_ranges
from liveeval.monitor.exposition import (
    alert_family,
    queue_families,
    sli_families,
    traffic_families,
)
from liveeval.monitor.prometheus import CONTENT_TYPE, render
from liveeval.monitor.rollup import sum_by
from liveeval.monitor.rules import Evaluation
from liveeval.monitor.silencing import SilenceError, silence_end
from liveeval.server.auth import AdminCaller, Caller, ReadCaller
from liveeval.server.params import ItemId
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.store import evaluation_queue, jobs
from liveeval.store.alerts import (
    AlertFilter,
    Silence,
    acknowledge_alert,
    active_silences,
    get_alert,
    list_alerts,
    notification_counts,
    notifications_of,
    silence_rule,
)
from liveeval.store.rollups import read_range, rollup_projects

router = APIRouter(tags=["monitor"], responses=errors(*ANY_ROUTE))
METRICS_CACHE_S = 15.0
Str = Annotated[str | None, Query(max_length=200)]


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "project": alert.project,
        "rule": alert.rule,
        "state": str(alert.state),
        "severity": str(alert.severity),
        "metric": alert.metric,
        "slice": alert.slice,
        "value": alert.value,
        "baseline": alert.baseline,
        "threshold": alert.threshold,
        "summary": alert.summary,
        "started_at": alert.started_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "link": alert.link,
        "details": alert.details,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def silence_json(silence: Silence) -> dict[str, Any]:
    return {
        "project": silence.project,
        "rule": silence.rule,
        "until": silence.until.isoformat(),
        "silenced_by": silence.silenced_by,
        "silenced_at": silence.silenced_at.isoformat(),
    }


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str | None = Field(default=None, max_length=100, description="Who is on it.")


class SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str = Field(max_length=100)
    duration: str = Field(max_length=20, description='How long: "2h", "1d", at most 30d.')
    project: str | None = Field(default=None, max_length=200)
    by: str | None = Field(default=None, max_length=100)


@router.get("/api/v1/alerts")
async def alerts(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    state: Annotated[str | None, Query(pattern="^(firing|resolved)$")] = None,
    rule: Str = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Alerts, newest first: what fired, on which slice, and why."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    where = AlertFilter(project=name, state=state, rule=rule, limit=limit)

    def query() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return [alert_json(a) for a in list_alerts(conn, where)]

    return await run_in_threadpool(query)


@router.get("/api/v1/alerts/{alert_id}", responses=errors(404))
async def alert(request: Request, caller: ReadCaller, alert_id: ItemId) -> dict[str, Any]:
    """One alert with the notifications sent (or still retried) for it."""

    def query() -> dict[str, Any]:
        with request.app.state.store.reading() as conn:
            found = get_alert(conn, alert_id)
            if found is None:
                raise HTTPException(404, f"no alert {alert_id}")
            caller.check_project(found.project)
            sent = notifications_of(conn, alert_id)
        return {**alert_json(found), "notifications": [_notification(n) for n in sent]}

    return await run_in_threadpool(query)


@router.post("/api/v1/alerts/{alert_id}/ack", responses=errors(*WITH_BODY, 404))
async def acknowledge(
    request: Request, caller: AdminCaller, alert_id: ItemId, body: AckBody
) -> dict[str, Any]:
    """Say someone is on it: the alert records who and when (shown on its page)."""
    at = request.app.state.clock()

    def work() -> dict[str, Any]:
        with request.app.state.store.writing() as conn:
            found = get_alert(conn, alert_id)
            if found is None:
                raise HTTPException(404, f"no alert {alert_id}")
            caller.check_project(found.project)
            done = acknowledge_alert(conn, alert_id, caller.actor(body.by), at)
        assert done is not None
        return alert_json(done)

    return await run_in_threadpool(work)


@router.post("/api/v1/silences", responses=errors(*WITH_BODY))
async def silence(request: Request, caller: AdminCaller, body: SilenceBody) -> dict[str, Any]:
    """Silence a rule for a while: it still evaluates and stores alerts, sends nothing."""
    settings = request.app.state.settings
    name = caller.project_for(body.project, settings.default_project)
    now = request.app.state.clock()
    try:
        until = silence_end(settings.monitor, body.rule, body.duration, now)
    except SilenceError as exc:
        raise HTTPException(422, str(exc)) from None

    def work() -> dict[str, Any]:
        with request.app.state.store.writing() as conn:
            done = silence_rule(conn, name, body.rule, until, caller.actor(body.by), now)
        return silence_json(done)

    return await run_in_threadpool(work)


@router.get("/api/v1/silences")
async def silences(
    request: Request, caller: ReadCaller, project: Str = None
) -> list[dict[str, Any]]:
    """The silences in force now, one per silenced rule."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    now = request.app.state.clock()

    def query() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return [silence_json(s) for s in active_silences(conn, name, now).values()]

    return await run_in_threadpool(query)


def _notification(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def sli_json(evaluation: Evaluation, now: datetime) -> dict[str, Any]:
    """One (rule, slice): its value against the baseline, the detector's evidence and
    what it can detect at today's volume."""
    window, baseline = rule_ranges(evaluation.rule, now)
    m = evaluation.measurement
    return {
        "rule": evaluation.rule.name,
        "metric": evaluation.rule.metric,
        "slice": evaluation.slice,
        "window": [t.isoformat() for t in window],
        "baseline_period": [t.isoformat() for t in baseline],
        "value": m.value,
        "baseline": m.baseline,
        "n": m.n,
        "baseline_n": m.baseline_n,
        "breached": m.breached,
        "sufficient": m.sufficient,
        "summary": m.summary,
        "evidence": m.evidence,
        "since": m.since.isoformat() if m.since else None,
        "detectability": m.detectability.to_dict() if m.detectability else None,
        "watching": status_of(m),
    }


@router.get("/api/v1/slis")
async def slis(request: Request, caller: ReadCaller, project: Str = None) -> list[dict[str, Any]]:
    """Every rule's value per slice now, against its baseline, with what its detector can
    see at today's volume: `watching` is "breached", "watching", "too thin" (the rule's
    minimum effect is not detected within its window) or "no data"."""
    app = request.app
    name = caller.project_for(project, app.state.settings.default_project)
    monitor = app.state.settings.monitor
    now = app.state.clock()

    def query() -> list[dict[str, Any]]:
        with app.state.store.reading() as conn:
            found = evaluate_project(
                conn,
                name,
                monitor.active_rules(),
                monitor.drift,
                now,
                false_alerts_per_month=monitor.false_alerts_per_month,
            )
        return [sli_json(e, now) for e in found]

    return await run_in_threadpool(query)


@router.get("/api/v1/drift")
async def drift(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    window: Annotated[str, Query(max_length=10)] = "1d",
    baseline: Annotated[str, Query(max_length=10)] = "7d",
    slice: Annotated[str | None, Query(max_length=50)] = None,
    topics: bool = True,
) -> dict[str, Any]:
    """Input drift: the window against the baseline right before it, feature by feature."""
    app = request.app
    name = caller.project_for(project, app.state.settings.default_project)
    if slice is not None and slice not in DIMENSIONS:
        raise HTTPException(422, f"slice must be one of {', '.join(DIMENSIONS)}, not {slice!r}")
    span, before = _duration("window", window), _duration("baseline", baseline)
    end = app.state.clock()
    config = app.state.settings.monitor.drift

    def compute() -> dict[str, Any]:
        run = run_drift(
            app.state.store,
            name,
            (end - span, end),
            (end - span - before, end - span),
            config,
            slice_by=slice,
            topics=topics,
        )
        return run.to_dict()

    return await run_in_threadpool(compute)


def _duration(name: str, value: str) -> timedelta:
    try:
        return parse_window(value, maximum=timedelta(days=90))
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {exc}") from None


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, caller: ReadCaller) -> Response:
    """Prometheus text format: SLIs by slice, firing alerts, traffic, queue depths."""
    app = request.app
    cached = getattr(app.state, "metrics_cache", None)
    key = caller.project
    if cached is not None and cached[0] == key and time.monotonic() - cached[1] < METRICS_CACHE_S:
        return Response(cached[2], media_type=CONTENT_TYPE)
    text = await run_in_threadpool(_exposition, request, caller)
    app.state.metrics_cache = (key, time.monotonic(), text)
    return Response(text, media_type=CONTENT_TYPE)


def _exposition(request: Request, caller: Caller) -> str:
    app = request.app
    monitor = app.state.settings.monitor
    rules = monitor.active_rules()
    now = app.state.clock()
    lookback = max((r.window + r.baseline for r in rules), default=timedelta(hours=1))
    evaluations, last_hour, firing = {}, {}, Counter[tuple[str, str, str]]()
    with app.state.store.reading() as conn:
        projects = rollup_projects(conn, now - lookback)
        if caller.project is not None:
            projects = [p for p in projects if p == caller.project]
        for project in projects:
            evaluations[project] = evaluate_project(
                conn,
                project,
                rules,
                monitor.drift,
                now,
                false_alerts_per_month=monitor.false_alerts_per_month,
            )
            rows = read_range(conn, project, now - timedelta(hours=1), now)
            by_model = sum_by(rows, ["model_served"])
            last_hour[project] = {key[0]: agg for key, agg in by_model.items()}
        # Firing alerts of every project, also one whose traffic stopped long ago.
        where = AlertFilter(project=caller.project, state="firing", limit=100_000)
        for a in list_alerts(conn, where):
            firing[(a.project, a.rule, str(a.severity))] += 1
        judge = jobs.counts(conn, caller.project)
        backlog, lag = evaluation_queue.backlog(conn, caller.project, now)
        notes = notification_counts(conn, caller.project)
    families = [
        *sli_families(evaluations, monitor.max_label_values),
        alert_family(firing),
        *traffic_families(last_hour, monitor.max_label_values),
        *queue_families(judge, backlog, notes, lag),
    ]
    return render(families)
