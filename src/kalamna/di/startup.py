"""Start-up work that needs live services, run by the API and the worker before they serve."""

from __future__ import annotations

import logging

from dishka import AsyncContainer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.cache.revocation import RedisRevocationStore
from kalamna.adapters.postgres.chunk_index import ensure_vector_index
from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.ai import Embedder
from kalamna.ports.security import RevocationStore


async def prepare(container: AsyncContainer) -> None:
    """The vector index of the configured embedding model; the revocations copied into Redis."""
    engine = await container.get(AsyncEngine)
    embedder = await container.get(Embedder)
    try:
        await ensure_vector_index(engine, embedder.model, embedder.dimensions)
    except (OSError, SQLAlchemyError) as exc:  # the database may be down; health will say so
        logging.getLogger("kalamna").warning("vector index not ensured: %s", exc)
    # Revocations: PostgreSQL is the source of truth; copy them into Redis before serving.
    revocations = await container.get(RevocationStore)
    if isinstance(revocations, RedisRevocationStore):
        try:
            await revocations.refill()
        except DependencyUnavailable as exc:  # re-filled on first use instead (see the store)
            logging.getLogger("kalamna").warning("revocations not re-filled: %s", exc)
