"""Templates and the page frame: Jinja2 with autoescaping on for everything, so every
prompt, output and comment is shown as text. The Content-Security-Policy that allows no
inline script, so even a missed escape could not run one, is on every response
(server/headers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from liveeval.dashboard.security import Viewer, csrf_token, remember_csrf
from liveeval.figures import money_text, number_text
from liveeval.model import Message
from liveeval.monitor.detectability_text import (
    detects_text,
    duration_text,
    status_of,
    volume_text,
)

HERE = Path(__file__).parent
PROJECT_COOKIE = "liveeval_project"  # the project last chosen, for addresses without one
PROJECT_COOKIE_S = 90 * 24 * 3600
PAGES = (
    ("overview", "Overview"),
    ("interactions", "Interactions"),
    ("quality", "Quality"),
    ("drift", "Drift"),
    ("alerts", "Alerts"),
    ("review", "Review"),
    ("golden", "Golden set"),
    ("experiments", "Experiments"),
    ("routing", "Routing"),
    ("judge", "Judge"),
)


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _number(value: float | None, digits: int | None = None) -> str:
    """`digits` decimals when given, except where they would round a value to 0 or show
    an exponent; otherwise three significant digits (figures.number_text)."""
    if value is None or value != value or digits is None:  # None or NaN
        return number_text(value)
    if (value != 0 and round(value, digits) == 0) or abs(value) >= 1e15:
        return number_text(value)
    return f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{100 * value:.1f}%"


def _said(message: Message) -> str:
    """A message as one line of text: its content, else the tools it called."""
    if message.content:
        return message.content
    return " ".join(f"→ {call.name}({call.arguments or ''})" for call in message.tool_calls)


ENVIRONMENT = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every template, whatever its name
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(
    when=_when,
    num=_number,
    money=money_text,
    pct=_percent,
    duration=duration_text,
    volume=volume_text,
    sli_status=status_of,
    detects=detects_text,
    said=_said,
)


def page(
    request: Request,
    template: str,
    viewer: Viewer | None,
    project: str,
    projects: list[str],
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    current = template.split(".")[0].split("_")[0]
    html = ENVIRONMENT.get_template(template).render(
        request=request,
        viewer=viewer,
        project=project,
        projects=projects,
        pages=PAGES,
        current=current,
        csrf=csrf_token(request),
        judge=request.app.state.settings.judge,
        **values,
    )
    response = HTMLResponse(html, status_code=status_code)
    remember_csrf(request, response)
    chosen = getattr(request.state, "chosen_project", None)
    if chosen is not None and chosen != request.cookies.get(PROJECT_COOKIE):
        response.set_cookie(
            PROJECT_COOKIE,
            quote(chosen, safe=""),
            max_age=PROJECT_COOKIE_S,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def chosen_project(request: Request) -> str | None:
    """The project this browser chose last (`?project=` on an earlier page), if any."""
    value = request.cookies.get(PROJECT_COOKIE)
    return unquote(value)[:200] if value else None
