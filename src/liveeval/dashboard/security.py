"""Who is looking at the dashboard, and protection of the forms that change state.

Open mode (keys not required, loopback): everyone is an admin of every project. With
`require_keys`, the dashboard asks for an API key once and starts a session: the
browser's cookie holds a random session id (HttpOnly, SameSite=Lax, Secure over
HTTPS), the store maps it to the key (store/sessions.py); logout, expiry or revoking
the key ends it. A read key can look, only an admin key can triage or promote.

Every form that changes state, the login form included, is checked twice: its
Origin (or, without one, its Referer) must be this server, and it carries a CSRF
token (double submit: a random cookie, SameSite=Strict, and the same value in the
form, compared in constant time). Lax lets a link from elsewhere (an alert in chat)
open a page signed in; a page from elsewhere still cannot post a form here.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from liveeval.model import Role
from liveeval.store.sessions import session_key

SESSION_COOKIE = "liveeval_session"
CSRF_COOKIE = "liveeval_csrf"


@dataclass(frozen=True, slots=True)
class Viewer:
    project: str | None  # a key's project; None: any project (open mode)
    role: Role
    key_id: str | None = None

    @property
    def can_change(self) -> bool:
        return self.role is Role.ADMIN

    def project_for(self, named: str | None, default: str) -> str:
        if self.project is not None:
            return self.project
        return named or default

    def actor(self, named: str | None) -> str:
        name = (named or "").strip() or "dashboard"
        return f"{name} (key {self.key_id})" if self.key_id else name


class LoginRequired(Exception):
    """Keys are required and the browser has no valid session: show the login page."""


async def viewer_of(request: Request) -> Viewer:
    state = request.app.state
    if not state.settings.require_keys:
        return Viewer(project=None, role=Role.ADMIN)
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise LoginRequired
    now = now_of(request)

    def find() -> Viewer | None:
        with state.store.reading() as conn:
            key = session_key(conn, session_id, now)
        return Viewer(project=key.project, role=key.role, key_id=key.key_id) if key else None

    viewer = await run_in_threadpool(find)
    if viewer is None:
        raise LoginRequired
    return viewer


def now_of(request: Request) -> datetime:
    now = request.app.state.clock()
    return now if isinstance(now, datetime) else datetime.now(UTC)


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (made on its first page; set by `remember_csrf`)."""
    token = request.cookies.get(CSRF_COOKIE)
    if token is None:
        token = getattr(request.state, "new_csrf", None)
        if token is None:
            token = secrets.token_urlsafe(32)
            request.state.new_csrf = token
    return token


def remember_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token is not None and request.cookies.get(CSRF_COOKIE) is None:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form post is from a page of this server: its origin, and its CSRF token."""
    check_origin(request)
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")


def check_origin(request: Request) -> None:
    """Browsers say where a form was posted from (Origin; Referer in older ones). It must
    be this server as the browser reached it: the Host header, or a name in allowed_hosts
    (a proxy that rewrites Host). A client that sends neither is no browser; the CSRF
    token still applies to it."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return
    here = request.headers.get("host", "").lower()
    declared = {_hostname(f"//{name}") for name in request.app.state.settings.allowed_hosts}
    netloc = _netloc(origin)
    if netloc and (netloc == here or _hostname(origin) in declared - {None}):
        return
    raise HTTPException(
        403,
        f"this form was posted from {origin[:100]!r}, not from this server ({here}): "
        "forms are accepted from the dashboard's own pages only. Behind a proxy that "
        "changes the Host header, add the public name to allowed_hosts.",
    )


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def set_session(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
