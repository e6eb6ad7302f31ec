"""Alembic environment: runs on the connection ``api.store.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from api.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline or CLI use without the helper
    raise RuntimeError("run migrations through api.store.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
