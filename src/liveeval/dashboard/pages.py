"""The dashboard's pages under /ui/: server-rendered, read from rollups and indexed rows.

Every page takes `?project=` (a key's own project when keys are required). Forms that
change state (the review flow, retiring a case) need an admin viewer and the CSRF
token, and answer with a redirect to the page they came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from liveeval.dashboard import series
from liveeval.dashboard.render import ENVIRONMENT, chosen_project, page
from liveeval.dashboard.security import (
    SESSION_COOKIE,
    Viewer,
    check_csrf,
    clear_session,
    csrf_token,
    now_of,
    remember_csrf,
    set_session,
    viewer_of,
)
from liveeval.flywheel.golden import retire_case
from liveeval.flywheel.intake_job import presidio_scrub
from liveeval.flywheel.manual import add_to_golden_set
from liveeval.flywheel.review import (
    ReviewError,
    UnknownItemError,
    give_score,
    promote,
    rubric_scales,
    triage,
    triage_group,
    write_expected,
)
from liveeval.flywheel.snapshot import ScrubText, snapshot
from liveeval.gate.divergence import divergence_now
from liveeval.gate.online_ab import COMPARABLE, compare_online
from liveeval.ingest.capture import capture_notice
from liveeval.ingest.otlp import decode_span
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.model import Role
from liveeval.model.review import ReviewState
from liveeval.model.signal import EXPLICIT_KINDS
from liveeval.model.slices import DIMENSIONS
from liveeval.monitor.detectability_text import group_by_rule
from liveeval.monitor.evaluation import evaluate_project
from liveeval.server.interaction_export import (
    MEDIA_TYPES,
    ExportFormat,
    export_lines,
    iter_interactions,
)
from liveeval.server.params import MAX_ID, ItemId
from liveeval.store import cases as stored_cases
from liveeval.store import evaluation_queue
from liveeval.store import review as queue
from liveeval.store.ab_runs import list_ab_runs
from liveeval.store.alerts import AlertFilter, firing_alerts, list_alerts
from liveeval.store.calibration import runs as calibration_runs
from liveeval.store.interactions import (
    InteractionFilter,
    get_interaction,
    list_interactions,
    project_with_data,
)
from liveeval.store.keys import find_key
from liveeval.store.regression_runs import list_regression_runs
from liveeval.store.rollups import rollup_projects
from liveeval.store.sampling import decisions_of, judge_cost_since
from liveeval.store.scores import scores_of
from liveeval.store.sessions import close_session, open_session
from liveeval.store.signals import list_signals
from liveeval.store.telemetry import load_stored_spans

router = APIRouter(prefix="/ui", include_in_schema=False)
T = TypeVar("T")
Str = Annotated[str | None, Query(max_length=200)]
PAGE_SIZE = 50
REVIEWER_COOKIE = "liveeval_reviewer"
REVIEWER_COOKIE_AGE_S = 365 * 24 * 3600
SCORE_CHOICES = ("0", "1", "2", "3", "4")  # "judge score at most": 0 for binary rubrics
CAPTURE_SAMPLE = 200  # the newest interactions the overview looks at for missing content


async def _read(request: Request, work: Callable[[Any], T]) -> T:
    def run() -> T:
        with request.app.state.store.reading() as conn:
            return work(conn)

    return await run_in_threadpool(run)


async def _recent(request: Request, key: tuple[Any, ...], work: Callable[[Any], T]) -> T:
    """`work`'s result as computed at most `RECENT_TTL_S` ago (refreshed in the
    background after that): for figures read from the rollups, which move once a minute."""
    store = request.app.state.store

    def compute() -> T:
        with store.reading() as conn:
            return work(conn)

    result: T = await run_in_threadpool(request.app.state.recent.get, key, compute)
    return result


async def _frame(request: Request, project: str | None) -> tuple[Viewer, str, list[str]]:
    """Who looks, at which project, and the projects to choose from. Without `?project=`
    the page opens the default project when it has data, else the one with the newest
    interaction (`liveeval demo` writes to its own project, not to `default`)."""
    viewer = await viewer_of(request)
    default = request.app.state.settings.default_project
    since = now_of(request) - timedelta(days=90)
    known = await _read(request, lambda conn: rollup_projects(conn, since))
    if viewer.project is None and project:
        request.state.chosen_project = project  # remembered in a cookie (render.page)
    elif viewer.project is None:
        project = chosen_project(request)
    if viewer.project is None and not project:
        default = await _read(request, lambda conn: project_with_data(conn, default, known))
    name = viewer.project_for(project, default)
    if viewer.project is not None:
        known = [viewer.project]
    projects = sorted({*known, name})
    return viewer, name, projects


@router.get("/login")
async def login_form(request: Request, next: Str = None) -> Response:
    return _login_page(request, next, None)


@router.post("/login")
async def login(
    request: Request,
    key: Annotated[str, Form(max_length=500)],
    next: Annotated[str | None, Form(max_length=500)] = None,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    """Sign in with an API key: the browser gets a session id, never the key."""
    check_csrf(request, csrf)
    now = now_of(request)

    def start() -> tuple[str | None, str | None]:
        """The new session's id, or why there is none."""
        with request.app.state.store.writing() as conn:
            found = find_key(conn, key.strip())
            if found is None:
                return None, "unknown or revoked key"
            if found.role is Role.INGEST:
                return None, "an ingest key cannot read"
            return open_session(conn, found.key_id, now), None

    session_id, refused = await run_in_threadpool(start)
    if session_id is None:
        return _login_page(request, next, refused, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session(request, response, session_id)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    """End this browser's session, here and in every server process."""
    check_csrf(request, csrf)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:

        def end() -> None:
            with request.app.state.store.writing() as conn:
                close_session(conn, session_id)

        await run_in_threadpool(end)
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session(request, response)
    return response


def _login_page(
    request: Request, next: str | None, error: str | None, status_code: int = 200
) -> Response:
    html = ENVIRONMENT.get_template("login.html").render(
        next=_safe_next(next), error=error, csrf=csrf_token(request)
    )
    response = Response(html, media_type="text/html", status_code=status_code)
    remember_csrf(request, response)
    return response


def _safe_next(value: str | None) -> str:
    """Only a path of this dashboard: never another site."""
    if value and value.startswith("/ui/") and not value.startswith("//"):
        return value
    return "/ui/overview"


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/ui/overview", status_code=303)


@router.get("/overview")
async def overview(request: Request, project: Str = None) -> Response:
    viewer, name, projects = await _frame(request, project)
    settings = request.app.state.settings
    now = now_of(request)

    recent = InteractionFilter(project=name, since=now - timedelta(hours=24))

    def work(conn: Any) -> dict[str, Any]:
        evaluations = evaluate_project(
            conn,
            name,
            settings.monitor.active_rules(),
            settings.monitor.drift,
            now,
            false_alerts_per_month=settings.monitor.false_alerts_per_month,
        )
        hours, sums = series.hourly(conn, name, now - timedelta(days=7), now)
        total = series.totals(sums)
        last_day = series.totals(series.since(sums, now - timedelta(hours=24)))
        return {
            "slis": group_by_rule(evaluations),
            "alerts": list(firing_alerts(conn, name).values()),
            "traffic": series.traffic_chart(hours, sums),
            "quality": series.quality_chart(hours, sums, None),
            "week": total,
            "day": last_day,
            "judge_cost": judge_cost_since(conn, name, now - timedelta(hours=24)),
            "budget": settings.sampling.budget,
            "capture": capture_notice(list_interactions(conn, recent, limit=CAPTURE_SAMPLE)),
            "backlog": _behind(evaluation_queue.backlog(conn, name, now)),
        }

    values = await _recent(request, ("overview", name), work)
    values["review"] = await _read(request, lambda conn: queue.state_counts(conn, name))
    return page(request, "overview.html", viewer, name, projects, **values)


def _behind(backlog: tuple[int, float]) -> tuple[int, timedelta]:
    waiting, seconds = backlog
    return waiting, timedelta(seconds=seconds)


@router.get("/interactions")
async def interactions(
    request: Request,
    project: Str = None,
    model: Str = None,
    prompt_version: Str = None,
    route: Str = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    signal: Annotated[str | None, Query(max_length=30)] = None,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24 * 7,
    score: Annotated[str | None, Query(max_length=4)] = None,
    user_id: Str = None,
    session_id: Str = None,
    q: Str = None,
) -> Response:
    viewer, name, projects = await _frame(request, project)
    now = now_of(request)
    max_score = float(score) if score in SCORE_CHOICES else None
    where = InteractionFilter(
        project=name,
        since=now - timedelta(hours=hours),
        model=model or None,
        prompt_version=prompt_version or None,
        route=route or None,
        has_signal=signal or None,
        language=language or None,
        max_score=max_score,
        user_id=user_id or None,
        session_id=session_id or None,
        text=q or None,
    )

    def work(conn: Any) -> dict[str, Any]:
        found = list_interactions(conn, where, limit=PAGE_SIZE)
        ids = [i.interaction_id for i in found if i.interaction_id is not None]
        judged: dict[int, list[Any]] = {}
        for score in scores_of(conn, ids):
            judged.setdefault(score.interaction_id, []).append(score)
        return {"rows": found, "scores": judged}

    values = await _read(request, work)
    filters = {
        "model": model or "",
        "prompt_version": prompt_version or "",
        "route": route or "",
        "language": language or "",
        "signal": signal or "",
        "hours": hours,
        "score": score if max_score is not None else "",
        "user_id": user_id or "",
        "session_id": session_id or "",
        "q": q or "",
    }
    filters["score_choices"] = SCORE_CHOICES
    return page(request, "interactions.html", viewer, name, projects, filters=filters, **values)


@router.get("/interactions/export")
async def export_interactions(
    request: Request,
    project: Str = None,
    format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "csv",
) -> Response:
    """The interactions page's rows as a file: every interaction its filters match (the
    same query parameters), not only the first page."""
    _, name, _ = await _frame(request, project)  # who may look at which project
    where = listing_filter(request, name)
    fmt: ExportFormat = "jsonl" if format == "jsonl" else "csv"
    lines = export_lines(iter_interactions(request.app.state.store, where), fmt)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"interactions-{name}.{fmt}")
    return StreamingResponse(
        (line.encode("utf-8") for line in lines),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def listing_filter(request: Request, name: str) -> InteractionFilter:
    """The interactions page's filters, read from its query string (for the export)."""
    given = request.query_params

    def text(key: str) -> str | None:
        value = given.get(key, "")[:200]
        return value or None

    try:
        hours = min(max(int(given.get("hours", 24 * 7)), 1), 24 * 90)
    except ValueError:
        hours = 24 * 7
    score = given.get("score")
    return InteractionFilter(
        project=name,
        since=now_of(request) - timedelta(hours=hours),
        model=text("model"),
        prompt_version=text("prompt_version"),
        route=text("route"),
        has_signal=text("signal"),
        language=text("language"),
        max_score=float(score) if score in SCORE_CHOICES else None,
        user_id=text("user_id"),
        session_id=text("session_id"),
        text=text("q"),
    )


@router.get("/interactions/{interaction_id}")
async def interaction(request: Request, interaction_id: ItemId, error: Str = None) -> Response:
    viewer, _, projects = await _frame(request, None)

    def work(conn: Any) -> dict[str, Any] | None:
        found = get_interaction(conn, interaction_id)
        if found is None or (viewer.project is not None and found.project != viewer.project):
            return None
        spans = [decode_span(s) for s in load_stored_spans(conn, found.project, {found.trace_id})]
        return {
            "item": found,
            "spans": sorted(spans, key=lambda s: s.start_at),
            "signals": list_signals(conn, [interaction_id]),
            "scores": scores_of(conn, [interaction_id]),
            "decisions": decisions_of(conn, interaction_id),
            "review": queue.item_of_interaction(conn, interaction_id),
            "uncaptured": capture_notice([found]),
        }

    values = await _read(request, work)
    if values is None:
        raise HTTPException(404, f"interaction {interaction_id} does not exist")
    project = values["item"].project
    return page(
        request,
        "interaction.html",
        viewer,
        project,
        projects,
        golden_error=error,
        reviewer=request.cookies.get(REVIEWER_COOKIE, "")[:200],
        **values,
    )


@router.post("/interactions/{interaction_id}/golden")
async def add_golden_form(
    request: Request,
    interaction_id: ItemId,
    grader_type: Annotated[str, Form(max_length=20)],
    grader_value: Annotated[str, Form(max_length=10_000)] = "",
    behaviour: Annotated[str, Form(max_length=20_000)] = "",
    output: Annotated[str, Form(max_length=100_000)] = "",
    threshold: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=1_000)] = "",
    case_id: Annotated[str | None, Form(max_length=200)] = None,
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Promote the interaction to a frozen regression case, through its review item."""
    viewer = await viewer_of(request)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot add to the golden set")
    at = now_of(request)
    expected = {k: v for k, v in {"behaviour": behaviour, "output": output}.items() if v.strip()}
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    state = request.app.state

    def run() -> str:
        with state.store.reading() as conn:
            found = get_interaction(conn, interaction_id)
        if found is None or (viewer.project is not None and found.project != viewer.project):
            raise HTTPException(404, f"interaction {interaction_id} does not exist")
        try:
            grader = grader_from_form(grader_type, grader_value, threshold)
            shot = snapshot(found, golden_scrubber(request))
            with state.store.writing() as conn:
                case = add_to_golden_set(
                    conn,
                    found,
                    shot,
                    expected,
                    grader,
                    viewer.actor(reviewer),
                    at,
                    tags=tag_list,
                    case_id=case_id or None,
                )
        except (ReviewError, ValueError) as exc:
            return f"/ui/interactions/{interaction_id}?error={quote(str(exc)[:300])}"
        query = urlencode({"project": found.project, "case": case.id})
        return f"/ui/golden?{query}"

    target = await run_in_threadpool(run)
    return remember_reviewer(RedirectResponse(target, status_code=303), reviewer)


def golden_scrubber(request: Request) -> ScrubText:
    """The configured PII scrubber, loaded on first use (Presidio takes seconds)."""
    state = request.app.state
    scrub: ScrubText | None = getattr(state, "golden_scrub", None)
    if scrub is None:
        scrub = presidio_scrub(state.settings)
        state.golden_scrub = scrub
    return scrub


@router.get("/quality")
async def quality(
    request: Request,
    project: Str = None,
    by: Annotated[str | None, Query(max_length=30)] = None,
    rubric: Str = None,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
) -> Response:
    viewer, name, projects = await _frame(request, project)
    dimension = by if by in DIMENSIONS else None
    now = now_of(request)

    def work(conn: Any) -> dict[str, Any]:
        hours, sums = series.hourly(conn, name, now - timedelta(days=days), now, dimension)
        rubrics = sorted(
            {r for by_hour in sums.values() for a in by_hour.values() for r in a.scores}
        )
        chosen = rubric if rubric in rubrics else (rubrics[0] if rubrics else None)
        markers = series.change_markers(
            series.first_seen(conn, name, now - timedelta(days=days), now)
        )
        charts = {
            "mean": series.quality_chart(hours, sums, chosen, "mean"),
            "p10": series.quality_chart(hours, sums, chosen, "p10"),
            "bad": series.quality_chart(hours, sums, chosen, "bad_share"),
        }
        rates = {
            kind: series.rate_chart(hours, sums, kind)
            for kind in ("thumbs_down", "regenerated", "escalated", "error")
        }
        for chart in (*charts.values(), *rates.values()):
            chart["markers"] = markers  # deploys and model changes on the time axis
        return {"rubrics": rubrics, "rubric": chosen, "markers": markers, "rates": rates, **charts}

    values = await _recent(request, ("quality", name, dimension, rubric, days), work)
    return page(
        request,
        "quality.html",
        viewer,
        name,
        projects,
        dimensions=DIMENSIONS,
        by=dimension or "",
        days=days,
        **values,
    )


@router.get("/drift")
async def drift(
    request: Request,
    project: Str = None,
    window_days: Annotated[float | None, Query(gt=0, le=30)] = None,
    baseline_days: Annotated[float | None, Query(gt=0, le=60)] = None,
    # hours, as links made before the page took days still say
    window_hours: Annotated[int | None, Query(alias="window", ge=1, le=24 * 30)] = None,
    baseline_hours: Annotated[int | None, Query(alias="baseline", ge=1, le=24 * 60)] = None,
) -> Response:
    from liveeval.monitor.drift_run import run_drift

    viewer, name, projects = await _frame(request, project)
    settings = request.app.state.settings
    now = now_of(request)
    window = _hours(window_days, window_hours, 24.0)
    baseline = _hours(baseline_days, baseline_hours, 24.0 * 7)

    def work() -> Any:
        return run_drift(
            request.app.state.store,
            name,
            window=(now - timedelta(hours=window), now),
            baseline=(now - timedelta(hours=window + baseline), now - timedelta(hours=window)),
            config=settings.monitor.drift,
        )

    key = (name, window, baseline)
    report, age, error = request.app.state.drift_reports.latest(key, work)
    return page(
        request,
        "drift.html",
        viewer,
        name,
        projects,
        report=report,
        age=age,
        error=error,
        window_days=f"{window / 24:g}",
        baseline_days=f"{baseline / 24:g}",
    )


def _hours(days: float | None, hours: int | None, default: float) -> float:
    """A drift period in hours: from days when given, else from the old hour parameter."""
    if days is not None:
        return days * 24
    return float(hours) if hours is not None else default


@router.get("/alerts")
async def alerts(request: Request, project: Str = None, state: Str = None) -> Response:
    viewer, name, projects = await _frame(request, project)
    firing = "firing" if state == "firing" else None  # the firing-only filter
    found = await _read(
        request, lambda conn: list_alerts(conn, AlertFilter(name, firing, limit=200))
    )
    return page(request, "alerts.html", viewer, name, projects, alerts=found, state=firing)


@router.get("/review")
async def review(
    request: Request,
    project: Str = None,
    group: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: Annotated[str, Query(max_length=20)] = "open",
    failure: Str = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    triaged: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    error: Str = None,
) -> Response:
    """The queue: failure patterns, and the items a page of `PAGE_SIZE` at a time, filtered
    by state, group and failure reason."""
    viewer, name, projects = await _frame(request, project)
    states = (
        (ReviewState(state),) if state in {s.value for s in ReviewState} else (ReviewState.OPEN,)
    )
    failure = failure or None
    wanted = queue.ItemFilter(
        name,
        states,
        group,
        failure,
        limit=PAGE_SIZE + 1,  # one more, to know whether there is a next page
        offset=(page_number - 1) * PAGE_SIZE,
    )

    def work(conn: Any) -> dict[str, Any]:
        groups = queue.list_groups(conn, name, states, 200)
        return {
            "groups": [g for g in groups if failure is None or g.failure == failure][:PAGE_SIZE],
            "items": queue.list_items(conn, wanted),
            "counts": queue.state_counts(conn, name),
            "failures": queue.failures_of(conn, name),
        }

    values = await _read(request, work)
    items = values.pop("items")
    return page(
        request,
        "review.html",
        viewer,
        name,
        projects,
        group=group,
        state=states[0].value,
        states=[s.value for s in ReviewState],
        failure=failure,
        items=items[:PAGE_SIZE],
        page_number=page_number,
        has_next=len(items) > PAGE_SIZE,
        page_size=PAGE_SIZE,
        triaged=triaged,
        error=error,
        triage_states=["real_failure", "not_failure", "needs_info"],
        reviewer=request.cookies.get(REVIEWER_COOKIE, "")[:200],
        **values,
    )


@router.get("/review/{item_id}")
async def review_item(request: Request, item_id: ItemId, error: Str = None) -> Response:
    viewer, _, projects = await _frame(request, None)

    def work(conn: Any) -> dict[str, Any] | None:
        item = queue.get_item(conn, item_id)
        if item is None or (viewer.project is not None and item.project != viewer.project):
            return None
        said = list_signals(conn, [item.interaction_id])
        return {
            "item": item,
            "events": queue.events_of(conn, item_id),
            "user_said": [s for s in said if s.kind in EXPLICIT_KINDS],
            "next_item": queue.next_item_id(conn, item.project, item, (ReviewState.OPEN,)),
        }

    values = await _read(request, work)
    if values is None:
        raise HTTPException(404, f"review item {item_id} does not exist")
    rubrics = rubrics_from_config(request.app.state.settings.judge)
    return page(
        request,
        "review_item.html",
        viewer,
        values["item"].project,
        projects,
        rubrics=rubrics,
        triage_states=["real_failure", "not_failure", "duplicate", "needs_info", "open"],
        error=error,
        reviewer=request.cookies.get(REVIEWER_COOKIE, "")[:200],
        **values,
    )


async def _review_action(
    request: Request,
    item_id: ItemId,
    csrf: str | None,
    act: Callable[[Any, Viewer], Any],
    reviewer: str | None = None,
) -> Response:
    viewer = await viewer_of(request)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot triage or promote")

    def run() -> str | None:
        try:
            with request.app.state.store.writing() as conn:
                act(conn, viewer)
        except UnknownItemError:
            raise HTTPException(404, f"review item {item_id} does not exist") from None
        except (ReviewError, ValueError) as exc:
            return str(exc)
        return None

    problem = await run_in_threadpool(run)
    target = f"/ui/review/{item_id}"
    if problem is not None:
        from urllib.parse import quote

        target += f"?error={quote(problem[:300])}"
    response = RedirectResponse(target, status_code=303)
    return remember_reviewer(response, reviewer)


def remember_reviewer(response: Response, reviewer: str | None) -> Response:
    """The reviewer's name for next time: the review forms are prefilled with it."""
    if reviewer and reviewer.strip():
        response.set_cookie(
            REVIEWER_COOKIE,
            reviewer.strip()[:200],
            max_age=REVIEWER_COOKIE_AGE_S,
            path="/ui",
            httponly=True,
            samesite="lax",
        )
    return response


@router.post("/review/groups/{group_id}/triage")
async def triage_group_form(
    request: Request,
    group_id: ItemId,
    state: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
    note: Annotated[str | None, Form(max_length=10_000)] = None,
    project: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Triage every open item of a failure pattern at once."""
    viewer, name, _ = await _frame(request, project)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot triage")
    at = now_of(request)

    def run() -> str:
        try:
            with request.app.state.store.writing() as conn:
                done = triage_group(
                    conn,
                    name,
                    group_id,
                    ReviewState(state),
                    viewer.actor(reviewer),
                    at,
                    note=note or None,
                )
        except (ReviewError, ValueError) as exc:
            return f"error={quote(str(exc)[:300])}"
        return f"triaged={done}"

    outcome = await run_in_threadpool(run)
    query = urlencode({"project": name, "group": group_id})
    target = f"/ui/review?{query}&{outcome}#items-heading"
    return remember_reviewer(RedirectResponse(target, status_code=303), reviewer)


@router.post("/review/{item_id}/triage")
async def triage_form(
    request: Request,
    item_id: ItemId,
    state: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
    note: Annotated[str | None, Form(max_length=10_000)] = None,
    duplicate_of: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    at = now_of(request)
    duplicate = int(duplicate_of) if duplicate_of and duplicate_of.isdigit() else None
    if duplicate is not None and not 1 <= duplicate <= MAX_ID:
        duplicate = None

    def act(conn: Any, viewer: Viewer) -> Any:
        return triage(
            conn,
            item_id,
            ReviewState(state),
            viewer.actor(reviewer),
            at,
            duplicate_of=duplicate,
            note=note or None,
            project=viewer.project,
        )

    return await _review_action(request, item_id, csrf, act, reviewer)


@router.post("/review/{item_id}/score")
async def score_form(
    request: Request,
    item_id: ItemId,
    value: Annotated[float, Form()],
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
    rubric: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    at = now_of(request)
    scales = rubric_scales(rubrics_from_config(request.app.state.settings.judge))

    def act(conn: Any, viewer: Viewer) -> Any:
        return give_score(
            conn,
            item_id,
            value,
            viewer.actor(reviewer),
            at,
            rubric=rubric or None,
            scales=scales,
            project=viewer.project,
        )

    return await _review_action(request, item_id, csrf, act, reviewer)


@router.post("/review/{item_id}/expected")
async def expected_form(
    request: Request,
    item_id: ItemId,
    grader_type: Annotated[str, Form(max_length=20)],
    grader_value: Annotated[str, Form(max_length=10_000)] = "",
    behaviour: Annotated[str, Form(max_length=20_000)] = "",
    output: Annotated[str, Form(max_length=100_000)] = "",
    threshold: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=1_000)] = "",
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    at = now_of(request)
    expected = {k: v for k, v in {"behaviour": behaviour, "output": output}.items() if v.strip()}
    grader = grader_from_form(grader_type, grader_value, threshold)
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]

    def act(conn: Any, viewer: Viewer) -> Any:
        return write_expected(
            conn,
            item_id,
            expected,
            grader,
            viewer.actor(reviewer),
            at,
            tags=tag_list,
            project=viewer.project,
        )

    return await _review_action(request, item_id, csrf, act, reviewer)


def grader_from_form(kind: str, value: str, threshold: str) -> dict[str, Any]:
    """The grader a reviewer picked: one text field means what the grader needs."""
    number = float(threshold) if threshold.strip() else None
    if kind == "contains":
        return {"type": "contains", "values": [v.strip() for v in value.split("|") if v.strip()]}
    if kind == "regex":
        return {"type": "regex", "pattern": value}
    if kind == "exact":
        return {"type": "exact", **({"value": value} if value else {})}
    if kind == "semantic":
        return {"type": "semantic", "threshold": number if number is not None else 0.8}
    if kind == "judge":
        return {"type": "judge", "rubric": value or "quality", "threshold": number or 4}
    return {"type": kind}


@router.post("/review/{item_id}/promote")
async def promote_form(
    request: Request,
    item_id: ItemId,
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
    case_id: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    at = now_of(request)

    def act(conn: Any, viewer: Viewer) -> Any:
        return promote(
            conn,
            item_id,
            viewer.actor(reviewer),
            at,
            case_id=case_id or None,
            project=viewer.project,
        )

    return await _review_action(request, item_id, csrf, act, reviewer)


@router.get("/golden")
async def golden(request: Request, project: Str = None, case: Str = None) -> Response:
    viewer, name, projects = await _frame(request, project)

    def work(conn: Any) -> dict[str, Any]:
        return {
            "cases": stored_cases.latest_cases(conn, name, include_retired=True),
            "versions": stored_cases.case_versions(conn, name, case) if case else [],
            "runs": list_regression_runs(conn, name, limit=50),
        }

    values = await _read(request, work)
    active = [c for c in values["cases"] if c.active]
    from liveeval.model.case import snapshot_hash

    return page(
        request,
        "golden.html",
        viewer,
        name,
        projects,
        selected=case,
        snapshot=snapshot_hash(active),
        **values,
    )


@router.post("/golden/{case_id}/retire")
async def retire_form(
    request: Request,
    case_id: str,
    reason: Annotated[str, Form(min_length=1, max_length=2_000)],
    csrf: Annotated[str | None, Form()] = None,
    reviewer: Annotated[str | None, Form(max_length=200)] = None,
    project: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    viewer = await viewer_of(request)
    check_csrf(request, csrf)
    if not viewer.can_change:
        raise HTTPException(403, f"a {viewer.role.value} key cannot retire cases")
    name = viewer.project_for(project, request.app.state.settings.default_project)
    at = now_of(request)

    def run() -> None:
        with request.app.state.store.writing() as conn:
            retire_case(conn, name, case_id, viewer.actor(reviewer), reason, at)

    try:
        await run_in_threadpool(run)
    except (ValueError, LookupError) as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/ui/golden?project={name}&case={case_id}", status_code=303)


@router.get("/experiments")
async def experiments(
    request: Request,
    project: Str = None,
    dimension: Annotated[str, Query(max_length=30)] = "prompt_version",
    a: Str = None,
    b: Str = None,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> Response:
    viewer, name, projects = await _frame(request, project)
    now = now_of(request)
    chosen = dimension if dimension in COMPARABLE else "prompt_version"

    def work(conn: Any) -> dict[str, Any]:
        comparison = None
        if a and b and a != b:
            comparison = compare_online(conn, name, chosen, a, b, now - timedelta(days=days), now)
        return {
            "comparison": comparison,
            "divergence": divergence_now(conn, name, now - timedelta(days=90), now),
        }

    values = await _recent(request, ("experiments", name, chosen, a, b, days), work)
    ab_runs = await _read(request, lambda conn: list_ab_runs(conn, name, 20))
    return page(
        request,
        "experiments.html",
        viewer,
        name,
        projects,
        dimensions=COMPARABLE,
        dimension=chosen,
        a=a or "",
        b=b or "",
        days=days,
        ab_runs=ab_runs,
        **values,
    )


@router.get("/judge")
async def judge(request: Request, project: Str = None) -> Response:
    viewer, name, projects = await _frame(request, project)
    now = now_of(request)

    def work(conn: Any) -> dict[str, Any]:
        _, sums = series.hourly(conn, name, now - timedelta(days=14), now, "model_served")
        total = series.totals(sums)
        return {
            "served": {
                model: series.totals({model: by_hour}) for model, by_hour in sorted(sums.items())
            },
            "mismatch": total.model_mismatch,
            "judge_errors": total.judge_errors,
            "interactions": total.interactions,
        }

    values = await _recent(request, ("judge", name), work)
    runs = await _read(request, lambda conn: calibration_runs(conn, name, None, 100))
    bias = await _read(request, lambda conn: list_ab_runs(conn, name, 20, pairwise_only=True))
    return page(
        request, "judge.html", viewer, name, projects, runs=runs, position_bias=bias, **values
    )
