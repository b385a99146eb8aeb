"""Alembic's entry point: migrate the connection ``bot.storage.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from bot.storage import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through bot.storage.migrate
    raise RuntimeError("run migrations through bot.storage.migrate (Store.open does on start)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
