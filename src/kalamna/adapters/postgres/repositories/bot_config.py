from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import BotConfigRow
from kalamna.domain.bot_config import BotConfig, HandoverSettings, WidgetSettings

_SCALARS = (
    "bot_name",
    "welcome_message",
    "tone",
    "language",
    "instructions",
    "fallback_message",
    "temperature",
    "max_answer_tokens",
    "top_k",
    "min_score",
)


def bot_config_from_row(row: BotConfigRow) -> BotConfig:
    widget = row.widget or {}
    defaults = WidgetSettings()
    return BotConfig(
        organization_id=row.organization_id,
        updated_at=row.updated_at,
        suggested_questions=list(row.suggested_questions or []),
        fallback_messages=dict(row.fallback_messages or {}),
        widget=WidgetSettings(
            primary_color=widget.get("primary_color", defaults.primary_color),
            position=widget.get("position", defaults.position),
            allowed_origins=list(widget.get("allowed_origins", [])),
        ),
        handover=_handover(row.handover or {}),
        **{name: getattr(row, name) for name in _SCALARS},
    )


def _handover(stored: dict[str, object]) -> HandoverSettings:
    defaults = HandoverSettings()
    after = stored.get("after_fallbacks", defaults.after_fallbacks)
    return HandoverSettings(
        enabled=bool(stored.get("enabled", defaults.enabled)),
        after_fallbacks=after if isinstance(after, int) else defaults.after_fallbacks,
        message=str(stored.get("message", defaults.message)),
        messages=_messages(stored.get("messages")),
    )


def _messages(stored: object) -> dict[str, str]:
    if not isinstance(stored, dict):
        return {}
    return {str(tag): str(text) for tag, text in stored.items()}


class SqlaBotConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, config: BotConfig) -> None:
        row = BotConfigRow(organization_id=config.organization_id, created_at=config.updated_at)
        self._copy(config, row)
        self._session.add(row)
        await self._session.flush()

    async def get(self, organization_id: UUID) -> BotConfig | None:
        row = await self._row(organization_id)
        return bot_config_from_row(row) if row else None

    async def save(self, config: BotConfig) -> None:
        row = await self._row(config.organization_id)
        if row is None:
            raise LookupError(config.organization_id)
        self._copy(config, row)
        await self._session.flush()

    async def _row(self, organization_id: UUID) -> BotConfigRow | None:
        return await self._session.scalar(
            select(BotConfigRow).where(BotConfigRow.organization_id == organization_id)
        )

    @staticmethod
    def _copy(config: BotConfig, row: BotConfigRow) -> None:
        for name in _SCALARS:
            setattr(row, name, getattr(config, name))
        row.suggested_questions = list(config.suggested_questions)
        row.fallback_messages = dict(config.fallback_messages)
        row.widget = {
            "primary_color": config.widget.primary_color,
            "position": config.widget.position,
            "allowed_origins": list(config.widget.allowed_origins),
        }
        row.handover = {
            "enabled": config.handover.enabled,
            "after_fallbacks": config.handover.after_fallbacks,
            "message": config.handover.message,
            "messages": dict(config.handover.messages),
        }
        row.updated_at = config.updated_at
