"""The ASGI application factory."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import liveeval
from liveeval.config import Settings
from liveeval.dashboard import mount_dashboard
from liveeval.dashboard.errors import error_page, invalid_input_text, is_dashboard_path
from liveeval.ingest.assemble import AssemblyRules
from liveeval.ingest.scoring import OnlineEvaluation
from liveeval.server import (
    ab_runs,
    cases,
    experiments,
    interactions,
    judge,
    monitor,
    otlp,
    review,
    routing,
    runs,
    scores,
    signals,
)
from liveeval.server.auth import KeyCache
from liveeval.server.errors import UnexpectedErrors
from liveeval.server.headers import SecurityHeaders
from liveeval.server.hosts import HostCheck, allowed_hosts
from liveeval.server.json_bodies import JsonBodies, printable
from liveeval.server.policy_cache import PolicyCache
from liveeval.server.responses import errors
from liveeval.store.database import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, store: Store, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """The liveeval server over `store`; `clock` is injectable for tests."""
    app = FastAPI(
        title="liveeval",
        version=liveeval.__version__,
        summary="Evaluate LLM products in production.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.clock = clock
    app.state.keys = KeyCache(store)
    app.state.write_gate = otlp.WriteGate(settings.max_pending_writes)
    app.state.routing = PolicyCache(settings.routing.refresh_s)
    app.state.rules = AssemblyRules(
        prices=settings.prices,
        hash_user_ids=settings.hash_user_ids,
        user_id_salt=settings.user_id_salt,
    )
    app.state.evaluation = (
        OnlineEvaluation.from_settings(settings) if settings.evaluation != "off" else None
    )
    app.include_router(otlp.router)
    app.include_router(signals.router)
    app.include_router(interactions.router)
    app.include_router(scores.router)
    app.include_router(judge.router)
    app.include_router(monitor.router)
    app.include_router(review.router)
    app.include_router(cases.router)
    app.include_router(runs.router)
    app.include_router(experiments.router)
    app.include_router(ab_runs.router)
    app.include_router(routing.router)
    app.add_middleware(JsonBodies)
    app.add_middleware(UnexpectedErrors)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StarletteHTTPException, _route_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    mount_dashboard(app)
    hosts = allowed_hosts(settings)
    if hosts is not None:
        app.add_middleware(HostCheck, allowed=hosts)
    app.add_middleware(SecurityHeaders)  # outermost: a refused Host gets the headers too

    @app.get("/api/v1/health", tags=["health"], responses=errors(400))
    def health() -> dict[str, str]:
        return {"status": "ok", "version": liveeval.__version__}

    return app


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, except that a rejected NaN or Infinity is echoed as text and a lone
    surrogate as U+FFFD: JSON has neither, and rendering one would be a 500."""
    assert isinstance(exc, RequestValidationError)
    if is_dashboard_path(request.url.path):
        return await error_page(request, 422, invalid_input_text(exc.errors()))
    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_finite(key): _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_dashboard_path(request.url.path) and exc.status_code >= 400:
        return await error_page(request, exc.status_code, _sentence(exc.detail))
    if request.url.path.startswith("/v1/"):
        return otlp.otlp_status_response(
            exc.status_code, str(exc.detail), otlp.request_kind(request), **(exc.headers or {})
        )
    if exc.status_code == 422:
        return JSONResponse({"detail": exc.detail}, status_code=422, headers=exc.headers)
    return await http_exception_handler(request, exc)


async def _route_error(request: Request, exc: Exception) -> Response:
    """No route or method for the address (Starlette's own 404 and 405)."""
    assert isinstance(exc, StarletteHTTPException)
    if is_dashboard_path(request.url.path):
        if exc.status_code == 404:
            return await error_page(request, 404, f"There is no page at {request.url.path}.")
        return await error_page(request, exc.status_code, _sentence(exc.detail))
    return await http_exception_handler(request, exc)


def _sentence(detail: Any) -> str:
    text = str(detail) if detail else "This page does not exist."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
