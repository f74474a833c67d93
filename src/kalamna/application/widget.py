"""What the chat widget may read about its organization."""

from __future__ import annotations

from kalamna.application.credentials import AuthenticateApiKey
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.errors import NotFound
from kalamna.ports.repositories import BotConfigRepository


class GetWidgetSettings:
    def __init__(self, authenticate: AuthenticateApiKey, configs: BotConfigRepository) -> None:
        self._authenticate = authenticate
        self._configs = configs

    async def __call__(self, raw_key: str) -> BotConfig:
        organization = await self._authenticate(raw_key)
        config = await self._configs.get(organization.id)
        if config is None:
            raise NotFound()
        return config
