"""Who is looking at the dashboard, and protection of the forms that change state.

Open mode (keys not required, loopback): everyone is an admin of every project. With
`require_keys`, the dashboard asks for an API key once and keeps it in a session
cookie (HttpOnly, SameSite=Strict, Secure over HTTPS); a read key can look, only an
admin key can triage or promote. Every form that changes state carries a CSRF token
(double submit: a random cookie and the same value in the form, compared in constant
time); SameSite=Strict already keeps other sites' requests from carrying the cookies.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import Response

from liveeval.model import Role

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


def viewer_of(request: Request) -> Viewer:
    state = request.app.state
    if not state.settings.require_keys:
        return Viewer(project=None, role=Role.ADMIN)
    secret = request.cookies.get(SESSION_COOKIE)
    key = state.keys.lookup(secret) if secret else None
    if key is None:
        raise LoginRequired
    return Viewer(project=key.project, role=key.role, key_id=key.key_id)


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
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")


def set_session(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
