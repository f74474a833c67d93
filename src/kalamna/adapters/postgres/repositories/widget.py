"""The widget's credential lookup: key, organization and bot config in one Core query (plain rows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import ApiCredentialRow, BotConfigRow, OrganizationRow
from kalamna.adapters.postgres.repositories.bot_config import bot_config_from_row
from kalamna.adapters.postgres.repositories.identity import organization_from_row
from kalamna.ports.widget import WidgetCredential


class _Prefixed:
    """Attribute access to the ``prefix``-labelled columns of a row (the row mappers read attributes)."""

    __slots__ = ("_mapping", "_prefix")

    def __init__(self, mapping: Mapping[str, Any], prefix: str) -> None:
        self._mapping = mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._mapping[self._prefix + name]


_KEY_HASH: Any = bindparam("key_hash")


def _lookup_query() -> Select[Any]:
    k, o, b = ApiCredentialRow, OrganizationRow, BotConfigRow
    columns: list[Any] = [k.id.label("k_id"), k.key_hash.label("k_key_hash")]
    columns += [c.label(f"o_{c.key}") for c in o.__table__.columns]
    columns += [c.label(f"b_{c.key}") for c in b.__table__.columns]
    return (
        select(*columns)
        .join_from(k, o, o.id == k.organization_id)
        .outerjoin(b, b.organization_id == k.organization_id)
        .where(k.key_hash == _KEY_HASH, k.revoked_at.is_(None))
        .limit(1)
    )


_LOOKUP = _lookup_query()


class SqlaWidgetDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lookup(self, key_hash: str) -> WidgetCredential | None:
        result = await self._session.execute(_LOOKUP, {"key_hash": key_hash})
        row = result.mappings().first()
        if row is None:
            return None
        config = bot_config_from_row(_Prefixed(row, "b_")) if row["b_id"] is not None else None  # type: ignore[arg-type]
        return WidgetCredential(
            credential_id=row["k_id"],
            key_hash=row["k_key_hash"],
            organization=organization_from_row(_Prefixed(row, "o_")),  # type: ignore[arg-type]
            config=config,
        )
