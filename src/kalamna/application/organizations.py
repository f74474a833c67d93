"""The organization profile and its bot configuration (owner and staff of the organization)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.bot_config import BotConfig, HandoverSettings, WidgetSettings
from kalamna.domain.errors import InvalidInput, NotFound
from kalamna.domain.identity import Organization
from kalamna.domain.organization_profile import check_profile
from kalamna.domain.policy import Action
from kalamna.ports.repositories import BotConfigRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock

PROFILE_FIELDS = ("name", "industry", "website", "description", "country", "timezone", "default_language")


def apply_profile(organization: Organization, changes: dict[str, str | None]) -> None:
    """Set the given fields (omitted ones keep their value) after validating them."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    merged = {name: changes.get(name, getattr(organization, name)) for name in PROFILE_FIELDS}
    merged = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in merged.items()}
    if not merged["name"]:
        raise InvalidInput("The organization needs a name.", extra={"fields": [{"key": "name"}]})
    check_profile(
        website=merged["website"], timezone=merged["timezone"], default_language=merged["default_language"]
    )
    for name, value in merged.items():
        setattr(organization, name, value)


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
    def __init__(self, organizations: OrganizationRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._organizations = organizations
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, principal: Principal, organization_id: UUID, changes: dict[str, str | None]
    ) -> Organization:
        require(principal, organization_id, Action.UPDATE_ORGANIZATION)
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise NotFound()
        apply_profile(organization, changes)
        organization.updated_at = self._clock.now()
        await self._organizations.save(organization)
        await self._uow.commit()
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


_CONFIG_FIELDS = {f.name for f in fields(BotConfig)} - {"organization_id", "updated_at", "widget", "handover"}
_WIDGET_FIELDS = {f.name for f in fields(WidgetSettings)}
_HANDOVER_FIELDS = {f.name for f in fields(HandoverSettings)}


class UpdateBotConfig:
    def __init__(self, configs: BotConfigRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._configs = configs
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, principal: Principal, organization_id: UUID, changes: dict[str, Any]
    ) -> BotConfig:
        require(principal, organization_id, Action.UPDATE_BOT_CONFIG)
        config = await self._configs.get(organization_id)
        if config is None:
            raise NotFound()
        widget_changes = changes.get("widget") or {}
        unknown = (set(changes) - _CONFIG_FIELDS - {"widget", "handover"}) | (
            set(widget_changes) - _WIDGET_FIELDS
        )
        handover_changes = changes.get("handover") or {}
        unknown |= set(handover_changes) - _HANDOVER_FIELDS
        if unknown:
            raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
        updated = replace(
            config,
            **{k: v for k, v in changes.items() if k not in ("widget", "handover")},
            widget=replace(config.widget, **widget_changes),
            handover=replace(config.handover, **handover_changes),
            updated_at=self._clock.now(),
        )
        updated.validate()
        await self._configs.save(updated)
        await self._uow.commit()
        return updated
