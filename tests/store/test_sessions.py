"""Dashboard sessions in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from liveeval.model import Role
from liveeval.store.database import Store
from liveeval.store.keys import create_key, revoke_key
from liveeval.store.schema import dashboard_sessions
from liveeval.store.sessions import SESSION_TTL, close_session, open_session, session_key
from tests.telemetry import T0


def test_a_session_maps_its_id_to_the_key_and_stores_only_a_hash(store: Store) -> None:
    with store.writing() as conn:
        key, secret = create_key(conn, "shop", Role.READ, None, T0)
        session_id = open_session(conn, key.key_id, T0)
    with store.reading() as conn:
        found = session_key(conn, session_id, T0 + timedelta(hours=1))
        [row] = conn.execute(dashboard_sessions.select()).mappings().all()
        assert session_key(conn, "not-a-session", T0) is None
    assert found is not None and (found.key_id, found.role) == (key.key_id, Role.READ)
    assert session_id not in row.values() and secret not in row.values()


def test_a_session_ends_when_closed_or_expired(store: Store) -> None:
    with store.writing() as conn:
        key, _ = create_key(conn, "shop", Role.ADMIN, None, T0)
        closed = open_session(conn, key.key_id, T0)
        lasting = open_session(conn, key.key_id, T0)
        close_session(conn, closed)
    with store.reading() as conn:
        assert session_key(conn, closed, T0) is None
        assert session_key(conn, lasting, T0 + SESSION_TTL - timedelta(seconds=1)) is not None
        assert session_key(conn, lasting, T0 + SESSION_TTL) is None


def test_revoking_a_key_ends_every_session_it_started(store: Store) -> None:
    with store.writing() as conn:
        key, _ = create_key(conn, "shop", Role.ADMIN, None, T0)
        other, _ = create_key(conn, "shop", Role.ADMIN, None, T0)
        sessions = [open_session(conn, key.key_id, T0) for _ in range(2)]
        kept = open_session(conn, other.key_id, T0)
        revoke_key(conn, key.key_id, T0)
    with store.reading() as conn:
        assert [session_key(conn, s, T0) for s in sessions] == [None, None]
        assert session_key(conn, kept, T0) is not None


def test_expired_sessions_are_dropped_when_a_new_one_starts(store: Store) -> None:
    with store.writing() as conn:
        key, _ = create_key(conn, "shop", Role.ADMIN, None, T0)
        open_session(conn, key.key_id, T0)
        open_session(conn, key.key_id, T0 + SESSION_TTL)
    with store.reading() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(dashboard_sessions))
        assert left.scalar_one() == 1
