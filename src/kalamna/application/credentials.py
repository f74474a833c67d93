"""The organization's widget API key: status, rotation, and verification for widget requests."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.api_keys import DISPLAY_PREFIX_LENGTH, KEY_PREFIX, ApiCredential
from kalamna.domain.errors import NotAuthenticated, NotFound
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.policy import Action
from kalamna.ports.repositories import ApiCredentialRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock, SecretTokens, Throttle
from kalamna.ports.widget import WidgetGate

audit = logging.getLogger("kalamna.audit")
LAST_USED_EVERY_S = 60


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    has_key: bool
    prefix: str | None
    created_at: datetime | None
    last_used_at: datetime | None


class GetCredentialStatus:
    def __init__(self, credentials: ApiCredentialRepository, organizations: OrganizationRepository) -> None:
        self._credentials = credentials
        self._organizations = organizations

    async def __call__(self, principal: Principal, organization_id: UUID) -> CredentialStatus:
        require(principal, organization_id, Action.MANAGE_API_CREDENTIALS)
        if await self._organizations.get(organization_id) is None:  # a superuser may name any id
            raise NotFound()
        current = await self._credentials.active_for(organization_id)
        if current is None:
            return CredentialStatus(False, None, None, None)
        return CredentialStatus(True, current.display_prefix, current.created_at, current.last_used_at)


class RotateApiKey:
    """Create a key; the previous one stops working in the same transaction."""

    def __init__(
        self,
        credentials: ApiCredentialRepository,
        organizations: OrganizationRepository,
        secrets: SecretTokens,
        uow: UnitOfWork,
        clock: Clock,
        gate: WidgetGate,
    ) -> None:
        self._credentials = credentials
        self._organizations = organizations
        self._secrets = secrets
        self._uow = uow
        self._clock = clock
        self._gate = gate

    async def __call__(self, principal: Principal, organization_id: UUID) -> tuple[str, ApiCredential]:
        require(principal, organization_id, Action.MANAGE_API_CREDENTIALS)
        if await self._organizations.get(organization_id) is None:  # a superuser may name any id
            raise NotFound()
        now = self._clock.now()
        raw = KEY_PREFIX + self._secrets.new()
        await self._credentials.revoke_all(organization_id, now)
        credential = ApiCredential(
            id=new_id(),
            organization_id=organization_id,
            key_hash=self._secrets.digest(raw),
            display_prefix=raw[:DISPLAY_PREFIX_LENGTH],
            created_at=now,
        )
        await self._credentials.add(credential)
        await self._gate.changed(organization_id)  # Redis down: nothing changes, rather than half of it
        await self._uow.commit()
        await self._gate.changed(organization_id)  # every process's cached copy of the old key is stale
        audit.info(
            "api key rotated",
            extra={"organization_id": str(organization_id), "employee_id": str(principal.employee_id)},
        )
        return raw, credential


class AuthenticateApiKey:
    """Widget requests: the key names an active organization, or the request is refused (401).

    ``last_used_at`` is written at most once a minute per key, whatever the traffic (a Redis
    throttle decides which request writes), so the widget's hot path does not write to PostgreSQL.
    """

    def __init__(
        self,
        credentials: ApiCredentialRepository,
        organizations: OrganizationRepository,
        secrets: SecretTokens,
        throttle: Throttle,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._credentials = credentials
        self._organizations = organizations
        self._secrets = secrets
        self._throttle = throttle
        self._uow = uow
        self._clock = clock

    async def __call__(self, raw_key: str) -> Organization:
        if not raw_key.startswith(KEY_PREFIX):
            raise NotAuthenticated("A valid API key is required.")
        digest = self._secrets.digest(raw_key)
        credential = await self._credentials.find_active_by_hash(digest)
        # The lookup is by digest; the comparison below is constant-time all the same.
        if credential is None or not hmac.compare_digest(credential.key_hash, digest):
            raise NotAuthenticated("A valid API key is required.")
        organization = await self._organizations.get(credential.organization_id)
        if organization is None or organization.status is not OrganizationStatus.ACTIVE:
            raise NotAuthenticated("A valid API key is required.")
        if await self._throttle.first_in_window(f"api-key-used:{credential.id}", LAST_USED_EVERY_S):
            await self._credentials.touch(credential.id, self._clock.now())
            await self._uow.commit()
        return organization
