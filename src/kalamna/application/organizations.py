"""The organization profile and its bot configuration (owner and staff of the organization)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.bot_config import BotConfig, BotConfigUpdate
from kalamna.domain.errors import NotFound
from kalamna.domain.identity import Organization
from kalamna.domain.organization_profile import ProfileUpdate
from kalamna.domain.policy import Action
from kalamna.ports.repositories import BotConfigRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.widget import WidgetGate


class GetOrganization:
    def __init__(self, organizations: OrganizationRepository) -> None:
        self._organizations = organizations

    async def __call__(self, principal: Principal, organization_id: UUID) -> Organization:
        require(principal, organization_id, Action.READ_ORGANIZATION)
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise NotFound()
        return organization


class UpdateOrganization:
    def __init__(
        self, organizations: OrganizationRepository, uow: UnitOfWork, clock: Clock, gate: WidgetGate
    ) -> None:
        self._organizations = organizations
        self._uow = uow
        self._clock = clock
        self._gate = gate

    async def __call__(
        self, principal: Principal, organization_id: UUID, changes: dict[str, str | None]
    ) -> Organization:
        require(principal, organization_id, Action.UPDATE_ORGANIZATION)
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise NotFound()
        organization.change_profile(ProfileUpdate.of(changes))
        organization.updated_at = self._clock.now()
        await self._organizations.save(organization)
        await self._gate.changed(organization_id)
        await self._uow.commit()
        await self._gate.changed(organization_id)  # the widget's cached copies (the name) are stale
        return organization


class GetBotConfig:
    def __init__(self, configs: BotConfigRepository) -> None:
        self._configs = configs

    async def __call__(self, principal: Principal, organization_id: UUID) -> BotConfig:
        require(principal, organization_id, Action.READ_BOT_CONFIG)
        config = await self._configs.get(organization_id)
        if config is None:
            raise NotFound()
        return config


class UpdateBotConfig:
    def __init__(self, configs: BotConfigRepository, uow: UnitOfWork, clock: Clock, gate: WidgetGate) -> None:
        self._configs = configs
        self._uow = uow
        self._clock = clock
        self._gate = gate

    async def __call__(
        self, principal: Principal, organization_id: UUID, changes: dict[str, Any]
    ) -> BotConfig:
        require(principal, organization_id, Action.UPDATE_BOT_CONFIG)
        config = await self._configs.get(organization_id)
        if config is None:
            raise NotFound()
        updated = config.updated(BotConfigUpdate.of(changes), self._clock.now())
        await self._configs.save(updated)
        await self._gate.changed(organization_id)
        await self._uow.commit()
        await self._gate.changed(organization_id)  # the widget's cached copies are stale
        return updated
