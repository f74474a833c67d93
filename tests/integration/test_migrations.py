"""The models and the migrations describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kalamna.adapters.postgres import models  # noqa: F401
from kalamna.adapters.postgres.base import metadata
from kalamna.adapters.postgres.migrations import include_object


async def test_models_and_migrations_agree(services) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(services.database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "compare_type": True,
                        "include_object": include_object,
                    },
                )
                return compare_metadata(context, metadata)

            differences = await conn.run_sync(diff)
            extensions = (await conn.execute(text("SELECT extname FROM pg_extension"))).scalars().all()
    finally:
        await engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"
    assert "vector" in extensions
