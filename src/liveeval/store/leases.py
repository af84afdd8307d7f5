"""Cluster-wide leases: a periodic task runs on one process at a time.

The holder renews its lease each run; another process takes it over only once it
has expired (its holder died or hangs). A row per task, so it works the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.store.dialect import insert_ignoring_duplicates
from liveeval.store.schema import scheduler_leases


def acquire_lease(
    conn: sa.Connection, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False if another holds it."""
    conn.execute(
        insert_ignoring_duplicates(conn, scheduler_leases, ["name"]).values(
            name=name, holder=holder, expires_at=now + ttl
        )
    )
    taken = conn.execute(
        scheduler_leases.update()
        .where(
            scheduler_leases.c.name == name,
            sa.or_(scheduler_leases.c.holder == holder, scheduler_leases.c.expires_at <= now),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    return taken.rowcount == 1


def release_lease(conn: sa.Connection, name: str, holder: str) -> None:
    conn.execute(
        scheduler_leases.delete().where(
            scheduler_leases.c.name == name, scheduler_leases.c.holder == holder
        )
    )
