"""Who is calling: an API key's project and role, or the open mode of a loopback server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from liveeval.model import ApiKey, Role
from liveeval.store.database import Store
from liveeval.store.keys import find_key

KEY_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Caller:
    """`project` is the key's project, or None in open mode (no key, keys not required)."""

    project: str | None
    role: Role
    key_id: str | None = None

    def actor(self, named: str | None) -> str:
        """Who a change is recorded as: the name given, and the key that made it."""
        name = (named or "").strip() or "anonymous"
        return f"{name} (key {self.key_id})" if self.key_id else name

    def project_for(self, named: str | None, default: str) -> str:
        """The project a request acts on; a key may act on its own project only."""
        if self.project is None:
            return named or default
        if named is not None and named != self.project:
            raise HTTPException(403, f"this key belongs to project {self.project!r}, not {named!r}")
        return self.project

    def check_project(self, project: str) -> None:
        if self.project is not None and project != self.project:
            raise HTTPException(403, f"this key belongs to project {self.project!r}")


class KeyCache:
    """Key lookups for a few seconds, so an ingest batch costs no extra query."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._entries: dict[str, tuple[float, ApiKey | None]] = {}

    def lookup(self, secret: str) -> ApiKey | None:
        now = self._clock()
        hit = self._entries.get(secret)
        if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        with self._store.reading() as conn:
            key = find_key(conn, secret)
        if key is None:  # not remembered: a key made a moment later must work at once
            return None
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[secret] = (now, key)
        return key


def _secret(authorization: str | None, api_key: str | None) -> str | None:
    if api_key:
        return api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise HTTPException(401, "Authorization header must be 'Bearer <key>'")
    return None


def caller_with(role: Role) -> Callable[..., Caller]:
    """A dependency that admits callers whose key allows `role`."""

    def dependency(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> Caller:
        secret = _secret(authorization, x_api_key)
        state = request.app.state
        if secret is None:
            if state.settings.require_keys:
                raise HTTPException(
                    401,
                    "an API key is required: send 'Authorization: Bearer <key>' "
                    "(make one with 'liveeval keys create')",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return Caller(project=None, role=Role.ADMIN)
        key = state.keys.lookup(secret)
        if key is None:
            raise HTTPException(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not key.role.allows(role):
            raise HTTPException(403, f"this {key.role.value} key cannot {role.value}")
        return Caller(project=key.project, role=key.role, key_id=key.key_id)

    return dependency


IngestCaller = Annotated[Caller, Depends(caller_with(Role.INGEST))]
ReadCaller = Annotated[Caller, Depends(caller_with(Role.READ))]
AdminCaller = Annotated[Caller, Depends(caller_with(Role.ADMIN))]
