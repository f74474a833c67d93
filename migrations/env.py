"""Alembic environment: async engine, models' metadata, one migrator at a time (advisory lock)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kalamna.adapters.postgres import models  # noqa: F401  (registers every table)
from kalamna.adapters.postgres.base import metadata
from kalamna.adapters.postgres.migrations import include_object

MIGRATION_LOCK_ID = 724_562_001  # arbitrary, constant: serialises concurrent `kalamna migrate`


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=include_object,
        transaction_per_migration=True,
        user_module_prefix="sa.",  # advanced-alchemy and pgvector types, aliased in script.py.mako
    )
    connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()


async def _run_async() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by kalamna.adapters.postgres.migrations"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run `kalamna migrate`")
asyncio.run(_run_async())
