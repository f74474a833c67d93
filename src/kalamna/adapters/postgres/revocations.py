"""Durable revocations in PostgreSQL: the source of truth behind the Redis fast path.

Each write runs in its own short transaction on the engine (committed before the caller goes on),
so a revocation survives the loss of Redis whatever the caller's unit of work does next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.postgres.models import AccessRevocationRow
from kalamna.domain.ids import new_id


@dataclass(frozen=True, slots=True)
class StoredRevocation:
    kind: str  # "jti" | "employee" | "organization"
    subject: str
    not_before: float
    expires_at: float  # epoch seconds


class PgRevocationLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, kind: str, subject: str, not_before: float, expires_at: float) -> None:
        """Upsert; a cut-off only ever moves forward (the later moment and expiry win)."""
        now = datetime.now(UTC)
        expires = datetime.fromtimestamp(expires_at, UTC)
        statement = insert(AccessRevocationRow).values(
            id=new_id(),
            kind=kind,
            subject=subject,
            not_before=not_before,
            expires_at=expires,
            created_at=now,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            constraint="uq_access_revocations_kind_subject",
            set_={
                "not_before": func.greatest(AccessRevocationRow.not_before, statement.excluded.not_before),
                "expires_at": func.greatest(AccessRevocationRow.expires_at, statement.excluded.expires_at),
                "updated_at": now,
            },
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def active(self, now: float) -> list[StoredRevocation]:
        """Every revocation that can still refuse a live token."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    AccessRevocationRow.kind,
                    AccessRevocationRow.subject,
                    AccessRevocationRow.not_before,
                    AccessRevocationRow.expires_at,
                ).where(AccessRevocationRow.expires_at > datetime.fromtimestamp(now, UTC))
            )
            return [
                StoredRevocation(row.kind, row.subject, float(row.not_before), row.expires_at.timestamp())
                for row in rows
            ]

    async def purge(self, now: float) -> int:
        """Forget revocations that no longer refuse anything; returns how many went."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(AccessRevocationRow).where(
                    AccessRevocationRow.expires_at <= datetime.fromtimestamp(now, UTC)
                )
            )
            return int(result.rowcount or 0)
