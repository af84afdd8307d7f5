"""The dashboard's Routing pages, `/ui/routing` and `/ui/routing/{task}`: per task of
`[routing.tasks]`, each arm's share of traffic per hour, its reward now against its
baseline, the policy snapshot per slice with its evidence and the guardrails that acted,
the canaries, and the kill switches with the forms to set or lift one (an admin viewer
and the CSRF token, as every form that changes state). A task without decisions shows
how to start sending them instead of empty charts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from liveeval.config.routing import UnknownTask
from liveeval.dashboard.pages import Str, _frame, _read
from liveeval.dashboard.render import page
from liveeval.dashboard.security import Viewer, check_csrf, now_of, viewer_of
from liveeval.routing.config import TaskConfig
from liveeval.routing.insights import ArmInsight, Insights
from liveeval.routing.slices import TASK
from liveeval.routing.snapshot import Snapshot
from liveeval.routing.stored import stored_insights
from liveeval.server.routing import kill_problem
from liveeval.store.rollups import HOUR, floor_to
from liveeval.store.routing import Kill, active_kills, add_kill, lift_kill
from liveeval.store.routing_traffic import HourCount, decisions_per_hour

router = APIRouter(prefix="/ui", include_in_schema=False)
MAX_HOURS = 24 * 14  # the snapshot's evidence window (routing.stored.EVIDENCE)
BASELINE = timedelta(hours=168)
HOURS_CHOICES = (24, 48, 168, 336)
# Arm colours, in the task's arm order (attributes only: the CSP allows no inline style).
COLOURS = ("#2f5bea", "#e07b00", "#1a7f37", "#c62828", "#7b3fc4", "#00838f", "#8d6e63")
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT = 760.0, 160.0, 40.0
INTERVAL_WIDTH = 200.0  # px of the [0, 1] reward scale in the interval marks
Hours = Annotated[int, Query(ge=1, le=MAX_HOURS)]


@dataclass(frozen=True, slots=True)
class Segment:
    """One arm's part of one hour's bar."""

    arm: str
    colour: str
    y: float
    height: float
    decisions: int
    share: float


@dataclass(frozen=True, slots=True)
class Bar:
    hour: datetime
    x: float
    width: float
    total: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class ShareChart:
    """Stacked bars of each arm's share of the hour's decisions, one bar per hour."""

    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, datetime, str], ...]  # x, hour, text-anchor
    totals: dict[str, int]

    @property
    def decisions(self) -> int:
        return sum(self.totals.values())


@dataclass(frozen=True, slots=True)
class Marks:
    """Where an interval and its mean fall on a [0, 1] scale `INTERVAL_WIDTH` wide; None
    where there are too few outcomes for an interval."""

    low: float
    high: float
    mean: float


@router.get("/routing")
async def routing_page(request: Request, project: Str = None) -> Response:
    viewer, name, projects = await _frame(request, project)
    tasks: dict[str, TaskConfig] = request.app.state.settings.routing.tasks
    now = now_of(request)
    since = now - timedelta(hours=24)

    def work(conn: Any) -> dict[str, int]:
        return {
            task: sum(c.decisions for c in decisions_per_hour(conn, name, task, since, now))
            for task in tasks
        }

    counts = await _read(request, work)
    snapshots = {task: await _snapshot(request, name, config) for task, config in tasks.items()}
    return page(
        request,
        "routing.html",
        viewer,
        name,
        projects,
        tasks=[(tasks[t], counts[t], snapshots[t].probabilities(TASK)) for t in sorted(tasks)],
    )


@router.get("/routing/{task}")
async def routing_task_page(
    request: Request, task: str, project: Str = None, hours: Hours = 48, error: Str = None
) -> Response:
    viewer, name, projects = await _frame(request, project)
    config = task_config(request, task)
    now = now_of(request)
    since = now - timedelta(hours=hours)

    def work(conn: Any) -> tuple[list[HourCount], Insights, list[Kill]]:
        counts = decisions_per_hour(conn, name, task, since, now)
        found = stored_insights(conn, name, config, now, timedelta(hours=hours), BASELINE)
        return counts, found, active_kills(conn, name, task)

    counts, found, kills = await _read(request, work)
    snapshot = await _snapshot(request, name, config)
    return page(
        request,
        "routing_task.html",
        viewer,
        name,
        projects,
        config=config,
        hours=hours,
        hours_choices=HOURS_CHOICES,
        baseline_hours=BASELINE // timedelta(hours=1),
        error=error,
        chart=share_chart(counts, config.arm_names, since, now),
        colours=colours_of(config.arm_names),
        insights=found,
        rewards=[(item, interval_marks(item)) for item in found.arms],
        snapshot=snapshot,
        slices=slice_rows(snapshot),
        canaries=canary_rows(config, snapshot),
        kills=kills,
        slice_keys=sorted(snapshot.slices, key=_slice_order),
        marks=evidence_marks,
        refresh_s=request.app.state.settings.routing.refresh_s,
    )


@router.post("/routing/{task}/kill")
async def kill_form(
    request: Request,
    task: str,
    arm: Annotated[str, Form(max_length=200)],
    slice: Annotated[str, Form(max_length=1000)] = TASK,
    reason: Annotated[str | None, Form(max_length=500)] = None,
    project: Annotated[str | None, Form(max_length=200)] = None,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Kill `arm` in `slice`: the next snapshot gives it nothing there."""
    viewer = await _changer(request, csrf)
    config = task_config(request, task)
    name = viewer.project_for(project, request.app.state.settings.default_project)
    key = slice.strip() or TASK
    problem = kill_problem(config, arm, key)
    if problem is None:
        now = now_of(request)

        def write() -> None:
            with request.app.state.store.writing() as conn:
                add_kill(conn, name, task, arm, key, (reason or "").strip() or None, now)

        await run_in_threadpool(write)
        request.app.state.routing.forget(name, task)
    return _back(task, name, problem)


@router.post("/routing/{task}/lift")
async def lift_form(
    request: Request,
    task: str,
    arm: Annotated[str, Form(max_length=200)],
    slice: Annotated[str, Form(max_length=1000)] = TASK,
    project: Annotated[str | None, Form(max_length=200)] = None,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Lift the kill switch of `arm` in `slice`."""
    viewer = await _changer(request, csrf)
    task_config(request, task)
    name = viewer.project_for(project, request.app.state.settings.default_project)
    now = now_of(request)

    def write() -> int:
        with request.app.state.store.writing() as conn:
            return lift_kill(conn, name, task, arm, slice, now)

    lifted = await run_in_threadpool(write)
    request.app.state.routing.forget(name, task)
    problem = None if lifted else f"{arm} is not killed in slice {slice}"
    return _back(task, name, problem)


def task_config(request: Request, task: str) -> TaskConfig:
    try:
        config: TaskConfig = request.app.state.settings.routing.task(task)
    except UnknownTask as exc:
        raise HTTPException(404, str(exc)) from None
    return config


async def _snapshot(request: Request, project: str, config: TaskConfig) -> Snapshot:
    state = request.app.state
    snapshot: Snapshot = await run_in_threadpool(
        state.routing.snapshot, state.store, project, config, now_of(request)
    )
    return snapshot


async def _changer(request: Request, csrf: str | None) -> Viewer:
    viewer = await viewer_of(request)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot set or lift kill switches")
    return viewer


def _back(task: str, project: str, problem: str | None) -> Response:
    query: dict[str, str] = {"project": project}
    if problem is not None:
        query["error"] = problem[:200]
    return RedirectResponse(
        f"/ui/routing/{quote(task, safe='')}?{urlencode(query)}", status_code=303
    )


def colours_of(arms: tuple[str, ...]) -> dict[str, str]:
    return {arm: COLOURS[i % len(COLOURS)] for i, arm in enumerate(arms)}


def share_chart(
    counts: list[HourCount], arms: tuple[str, ...], since: datetime, until: datetime
) -> ShareChart:
    """One bar per UTC hour of [since, until) (an hour without decisions: no bar), each
    split into the arms' shares of that hour's decisions, in the task's arm order."""
    start = floor_to(since, HOUR)
    slots = max(1, math.ceil((until - start) / timedelta(hours=1)))
    width = CHART_WIDTH / slots
    per_hour: dict[datetime, dict[str, int]] = defaultdict(dict)
    totals = dict.fromkeys(arms, 0)
    for count in counts:
        per_hour[count.hour][count.arm] = count.decisions
        totals[count.arm] = totals.get(count.arm, 0) + count.decisions
    colours = colours_of(tuple(totals))
    bars = []
    for hour in sorted(per_hour):
        got = per_hour[hour]
        total = sum(got.values())
        top = CHART_HEIGHT  # the first arm at the bottom, the others stacked on it
        segments = []
        for arm in totals:
            if not got.get(arm):
                continue
            share = got[arm] / total
            top -= share * CHART_HEIGHT
            segments.append(Segment(arm, colours[arm], top, share * CHART_HEIGHT, got[arm], share))
        index = (hour - start) // timedelta(hours=1)
        bars.append(Bar(hour, CHART_LEFT + index * width, width, total, tuple(segments)))
    anchors = {0: "start", slots // 2: "middle", slots - 1: "end"}
    ticks = tuple(
        (CHART_LEFT + (i + 0.5) * width, start + timedelta(hours=i), anchors[i])
        for i in sorted(anchors)
    )
    return ShareChart(tuple(bars), ticks, totals)


def interval_marks(item: ArmInsight) -> tuple[Marks | None, Marks | None]:
    """The current and the baseline reward intervals of an insight, on the [0, 1] scale."""
    return (
        _marks(item.current_mean, item.current_interval, item.current_n),
        _marks(item.baseline_mean, item.baseline_interval, item.baseline_n),
    )


def evidence_marks(mean: float, low: float, high: float) -> Marks | None:
    return _marks(mean, (low, high), 1)


def _marks(mean: float, interval: tuple[float, float], n: int) -> Marks | None:
    low, high = interval
    if not n or not all(math.isfinite(v) for v in (mean, low, high)):
        return None

    def x(value: float) -> float:
        return round(INTERVAL_WIDTH * min(1.0, max(0.0, value)), 1)

    return Marks(x(low), x(high), x(mean))


def slice_rows(snapshot: Snapshot) -> list[tuple[str, list[tuple[str, float, Any]], list[str]]]:
    """Per slice (widest first): (key, [(arm, probability, evidence or None)], notes)."""
    rows = []
    for key in sorted(snapshot.slices, key=_slice_order):
        decision = snapshot.slices[key]
        evidence = {item.arm: item for item in decision.evidence}
        arms = [
            (arm, p, evidence.get(arm))
            for arm, p in zip(snapshot.arms, decision.probabilities, strict=True)
        ]
        rows.append((key, arms, list(decision.notes)))
    return rows


def canary_rows(config: TaskConfig, snapshot: Snapshot) -> list[tuple[str, str, str]]:
    """Each canary arm: (arm, state, the note of the task-wide slice that says why).

    The policy tests a canary once for the task, so the task-wide slice's note carries its
    state: capped (at the initial share), cap lifted, or failed; a killed canary has none."""
    notes = snapshot.slices[TASK].notes
    rows = []
    for arm in config.canaries:
        note = next((n for n in notes if n.startswith(f"canary {arm} ")), "")
        if "failed" in note:
            state = "failed"
        elif "lifted" in note:
            state = "lifted"
        elif "capped" in note:
            state = "capped"
        else:
            killed = {a for n in notes if n.startswith("killed: ") for a in n[8:].split(", ")}
            state = "killed" if arm in killed else "–"
        rows.append((arm, state, note))
    return rows


def _slice_order(key: str) -> tuple[int, str]:
    return (0 if key == TASK else key.count(",") + 1, key)
