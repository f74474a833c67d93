"""Platform administration (superuser): every organization, creation with an invited owner, status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.application.team import InviteEmployee
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.errors import InvalidInput, NotFound
from kalamna.domain.identity import Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation
from kalamna.domain.organization_profile import ProfileUpdate
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.policy import Action
from kalamna.ports.repositories import (
    BotConfigRepository,
    InvitationRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, RevocationStore
from kalamna.ports.widget import WidgetGate

audit = logging.getLogger("kalamna.audit")


class ListOrganizations:
    def __init__(self, organizations: OrganizationRepository) -> None:
        self._organizations = organizations

    async def __call__(
        self, principal: Principal, *, status: OrganizationStatus | None, query: str | None, page: PageRequest
    ) -> Page[Organization]:
        require(principal, None, Action.ADMINISTER_PLATFORM)
        return await self._organizations.search(status=status, query=(query or "").strip() or None, page=page)


@dataclass(frozen=True, slots=True)
class NewOrganization:
    profile: dict[str, str | None]
    owner_email: str
    owner_full_name: str


class CreateOrganization:
    """An active organization at once, its default bot config, and its owner invited by email."""

    def __init__(
        self,
        organizations: OrganizationRepository,
        bot_configs: BotConfigRepository,
        invite: InviteEmployee,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._organizations = organizations
        self._bot_configs = bot_configs
        self._invite = invite
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, data: NewOrganization) -> tuple[Organization, Invitation]:
        require(principal, None, Action.ADMINISTER_PLATFORM)
        now = self._clock.now()
        organization = Organization(
            id=new_id(), name="", status=OrganizationStatus.ACTIVE, created_at=now, updated_at=now
        )
        organization.change_profile(ProfileUpdate.of(data.profile))
        await self._organizations.add(organization)
        await self._bot_configs.add(BotConfig(organization_id=organization.id, updated_at=now))
        invitation = await self._invite(
            principal, organization.id, data.owner_email, Role.OWNER, commit=False
        )
        await self._uow.commit()
        audit.info(
            "organization created by superuser",
            extra={"organization_id": str(organization.id), "by": str(principal.employee_id)},
        )
        return organization, invitation


class AdministerOrganization:
    """PATCH /orgs/{id}: status and profile. Suspension cuts the organization's sessions and widget."""

    def __init__(
        self,
        organizations: OrganizationRepository,
        invitations: InvitationRepository,
        tokens: OneTimeTokenRepository,
        revocations: RevocationStore,
        uow: UnitOfWork,
        clock: Clock,
        gate: WidgetGate,
    ) -> None:
        self._organizations = organizations
        self._invitations = invitations
        self._tokens = tokens
        self._revocations = revocations
        self._uow = uow
        self._clock = clock
        self._gate = gate

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        *,
        status: OrganizationStatus | None,
        profile: dict[str, str | None],
    ) -> Organization:
        require(principal, None, Action.ADMINISTER_PLATFORM)
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise NotFound()
        now = self._clock.now()
        if profile:
            organization.change_profile(ProfileUpdate.of(profile))
        suspending = status is OrganizationStatus.SUSPENDED and organization.status is not status
        if status is OrganizationStatus.SUSPENDED:
            organization.suspend(now)
        elif status is OrganizationStatus.ACTIVE:
            organization.reactivate(now)
        elif status is OrganizationStatus.PENDING:
            raise InvalidInput(
                "An organization cannot be set back to pending.", extra={"fields": [{"key": "status"}]}
            )
        organization.updated_at = now
        await self._organizations.save(organization)
        if suspending:  # pending invitations die with the suspension: reactivation does not revive them
            for invitation_id in await self._invitations.revoke_pending(organization.id, now):
                await self._tokens.revoke_for_invitation(invitation_id, now)
        if suspending:  # before the commit: if Redis is down nothing changes, rather than half of it
            await self._revocations.revoke_organization_before(organization.id, now.timestamp())
        await self._gate.changed(organization.id)
        await self._uow.commit()
        await self._gate.changed(organization.id)  # the widget's cached copies (status, name) are stale
        audit.info(
            "organization administered",
            extra={"organization_id": str(organization.id), "status": organization.status.value},
        )
        return organization
