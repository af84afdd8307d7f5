"""API keys: made once, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa

from liveeval.model import ApiKey, Role
from liveeval.store.schema import api_keys

PREFIX = "lek_"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    conn: sa.Connection, project: str, role: Role, name: str | None, now: datetime
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is not stored and cannot be shown again."""
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(24)}"
    conn.execute(
        api_keys.insert().values(
            key_id=key_id,
            project=project,
            role=role.value,
            name=name,
            key_hash=hash_key(secret),
            created_at=now,
        )
    )
    return ApiKey(key_id, project, role, name, now), secret


def find_key(conn: sa.Connection, secret: str) -> ApiKey | None:
    """The live key with this secret, or None (unknown or revoked)."""
    query = sa.select(api_keys).where(
        api_keys.c.key_hash == hash_key(secret), api_keys.c.revoked_at.is_(None)
    )
    row = conn.execute(query).mappings().first()
    return key_from_row(row) if row else None


def list_keys(conn: sa.Connection, project: str | None = None) -> list[ApiKey]:
    query = sa.select(api_keys).order_by(api_keys.c.created_at)
    if project is not None:
        query = query.where(api_keys.c.project == project)
    return [key_from_row(row) for row in conn.execute(query).mappings()]


def revoke_key(conn: sa.Connection, key_id: str, now: datetime) -> bool:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def key_from_row(row: sa.RowMapping) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        project=row["project"],
        role=Role(row["role"]),
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
