"""Dashboard sessions: the browser holds a random id, the store its hash and the key.

The id says nothing and proves nothing by itself; the store maps it to the API key
that signed in, so every server process (`serve --workers N`) and every restart
agrees on it, logout ends it everywhere, and revoking the key ends all its sessions
at once (the lookup reads the key's `revoked_at`; no cache to wait out).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.model import ApiKey
from liveeval.store.keys import hash_key, key_from_row
from liveeval.store.schema import api_keys, dashboard_sessions

SESSION_TTL = timedelta(days=7)


def open_session(
    conn: sa.Connection, key_id: str, now: datetime, ttl: timedelta = SESSION_TTL
) -> str:
    """A new session for the key, and the id to give the browser (shown once, stored as
    a hash). Sessions that have expired are dropped on the way."""
    conn.execute(dashboard_sessions.delete().where(dashboard_sessions.c.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    conn.execute(
        dashboard_sessions.insert().values(
            session_hash=hash_key(session_id), key_id=key_id, created_at=now, expires_at=now + ttl
        )
    )
    return session_id


def session_key(conn: sa.Connection, session_id: str, now: datetime) -> ApiKey | None:
    """The key a live session signed in with; None when the session is unknown, ended,
    expired, or its key revoked."""
    s = dashboard_sessions.c
    query = (
        sa.select(api_keys)
        .join(dashboard_sessions, s.key_id == api_keys.c.key_id)
        .where(
            s.session_hash == hash_key(session_id),
            s.expires_at > now,
            api_keys.c.revoked_at.is_(None),
        )
    )
    row = conn.execute(query).mappings().first()
    return key_from_row(row) if row else None


def close_session(conn: sa.Connection, session_id: str) -> None:
    conn.execute(
        dashboard_sessions.delete().where(dashboard_sessions.c.session_hash == hash_key(session_id))
    )
