"""Alembic environment: liveeval runs migrations itself, on the connection it hands over."""

from __future__ import annotations

from alembic import context

from liveeval.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through liveeval.store.database.Store.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
