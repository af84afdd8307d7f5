"""The web dashboard: server-rendered pages under /ui/ on the same process as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from liveeval.dashboard.alert_pages import router as alert_router
from liveeval.dashboard.cache import DRIFT_TTL_S, RECENT_TTL_S, Background, Recent
from liveeval.dashboard.golden_selection import router as golden_selection_router
from liveeval.dashboard.pages import router
from liveeval.dashboard.routing_pages import router as routing_router
from liveeval.dashboard.security import LoginRequired

STATIC = Path(__file__).parent / "static"


def mount_dashboard(app: FastAPI) -> None:
    app.state.recent = Recent(RECENT_TTL_S)
    app.state.drift_reports = Background(DRIFT_TTL_S)
    app.include_router(golden_selection_router)
    app.include_router(router)
    app.include_router(alert_router)
    app.include_router(routing_router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="dashboard-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/ui/login?next={request.url.path}", status_code=303)

    app.add_exception_handler(LoginRequired, login_required)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/ui/overview", status_code=303)
