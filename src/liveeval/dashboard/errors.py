"""Errors under /ui/ as pages in the dashboard's frame: a sentence on what was wrong and a
link back, with the status code of the REST API's answer (404, 422, ...). The REST API
keeps its JSON errors; server/app.py's handlers send dashboard paths here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from liveeval.dashboard.render import chosen_project, page
from liveeval.dashboard.security import LoginRequired, Viewer, viewer_of
from liveeval.store.interactions import project_with_data

STATIC = "/ui/static/"
WHERE = {"query": "parameter", "path": "address part", "body": "form field"}


def is_dashboard_path(path: str) -> bool:
    """A page of the dashboard (its static files keep plain errors)."""
    return (path == "/ui" or path.startswith("/ui/")) and not path.startswith(STATIC)


def invalid_input_text(errors: Sequence[Any]) -> str:
    """FastAPI's validation errors as sentences: which part, what it got, what it needs."""
    sentences = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        kind = WHERE.get(location[0], location[0]) if location else "input"
        name = location[-1] if len(location) > 1 else "?"
        got = error.get("input")
        shown = f" (got {str(got)[:80]!r})" if isinstance(got, str | int | float) else ""
        sentences.append(f"The {kind} {name!r} is not valid{shown}: {error.get('msg', '')}.")
    return " ".join(sentences) or "The address is not valid."


async def error_page(request: Request, status_code: int, message: str) -> Response:
    """The page; for a browser not signed in (keys required) it names no viewer."""
    viewer: Viewer | None
    try:
        viewer = await viewer_of(request)
    except LoginRequired:
        viewer = None
    project = request.query_params.get("project", "")[:200]
    if viewer is not None and viewer.project is not None:
        project = viewer.project
    elif not project and viewer is not None:  # signed in (or open): the page it would open
        chosen = chosen_project(request)
        if chosen is None:
            chosen = await run_in_threadpool(_project_with_data, request)
        project = chosen
    elif not project:  # not signed in: name no project that has data
        project = request.app.state.settings.default_project
    return page(
        request,
        "error.html",
        viewer,
        project,
        [project],
        status_code=status_code,
        status=status_code,
        message=message,
    )


def _project_with_data(request: Request) -> str:
    """The project a page without `?project=` opens (pages.py's `_frame`)."""
    with request.app.state.store.reading() as conn:
        return project_with_data(conn, request.app.state.settings.default_project, [])
