"""Gauges computed when ``/metrics`` is scraped: queue depth (SAQ on Redis) and handovers waiting
(PostgreSQL)."""

from __future__ import annotations

from saq import Queue
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Point this at another query if the handover model changes; it must return one integer.
HANDOVERS_WAITING_SQL = "SELECT count(*) FROM chat_sessions WHERE status = 'open' AND mode = 'waiting'"
_HAS_MODE_SQL = (
    "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
    "WHERE table_name = 'chat_sessions' AND column_name = 'mode')"
)


class QueueDepth:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def __call__(self) -> dict[tuple[str, ...], float]:
        return {
            ("queued",): float(await self._queue.count("queued")),
            ("active",): float(await self._queue.count("active")),
        }


class HandoversWaiting:
    """Open conversations waiting for a person. Until the schema has ``chat_sessions.mode`` (the
    handover feature) the gauge reads 0; the column is looked for again at each scrape until found."""

    def __init__(self, engine: AsyncEngine, query: str = HANDOVERS_WAITING_SQL) -> None:
        self._engine = engine
        self._query = query
        self._ready = False

    async def __call__(self) -> dict[tuple[str, ...], float]:
        async with self._engine.connect() as conn:
            if not self._ready:
                self._ready = bool(await conn.scalar(text(_HAS_MODE_SQL)))
                if not self._ready:
                    return {(): 0.0}
            return {(): float(await conn.scalar(text(self._query)) or 0)}
