"""Engine and session factory. Created inside the DI container (never at import time), so each
event loop gets its own pool."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        echo=echo,
        # SQL parameters (emails, hashes, texts) never appear in exception messages or logs.
        hide_parameters=True,
        connect_args={
            "timeout": 5,
            "command_timeout": 60,
            "server_settings": {"application_name": "kalamna"},
        },
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class PostgresProbe:
    name = "database"
    required = True

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OperationalError, InterfaceError, DBAPIError) as exc:
            raise ConnectionError(str(exc.orig or exc)) from exc
