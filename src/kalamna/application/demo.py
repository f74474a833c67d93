"""The demo organization that ``kalamna dev`` seeds on first start (never in production)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from uuid import UUID

from kalamna.application.auth.principal import Principal
from kalamna.application.credentials import RotateApiKey
from kalamna.application.knowledge.entries import CreateEntry
from kalamna.domain.bot_config import BotConfig, WidgetSettings
from kalamna.domain.identity import (
    Employee,
    EmployeeStatus,
    Organization,
    OrganizationStatus,
    Role,
    normalize_email,
)
from kalamna.domain.ids import new_id
from kalamna.ports.repositories import (
    BotConfigRepository,
    EmployeeRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, PasswordHasher

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class DemoContent:
    organization_name: str
    owner_email: str
    owner_name: str
    bot_name: str
    welcome_message: str
    suggested_questions: list[str]
    entries: list[tuple[str, str]]  # (title, text)
    fallback_message: str | None = None
    primary_color: str = "#0F766E"


@dataclass(frozen=True, slots=True)
class SeededDemo:
    organization_id: UUID
    api_key: str
    created: bool  # False: the demo organization already existed (its key was rotated)
    entry_ids: list[UUID] = field(default_factory=list)


class SeedDemo:
    """Create the demo organization, its owner (active), bot config, knowledge and API key.

    Idempotent by the owner's email: when it exists, only a new API key is issued.
    """

    def __init__(
        self,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        configs: BotConfigRepository,
        hasher: PasswordHasher,
        create_entry: CreateEntry,
        rotate_key: RotateApiKey,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._organizations = organizations
        self._employees = employees
        self._configs = configs
        self._hasher = hasher
        self._create_entry = create_entry
        self._rotate_key = rotate_key
        self._uow = uow
        self._clock = clock

    async def __call__(self, content: DemoContent, password: str) -> SeededDemo:
        email = normalize_email(content.owner_email)
        existing = await self._employees.get_by_email(email)
        if existing is not None and existing.organization_id is not None:
            key, _ = await self._rotate_key(self._owner(existing), existing.organization_id)
            return SeededDemo(existing.organization_id, key, created=False)
        now = self._clock.now()
        organization = Organization(
            id=new_id(),
            name=content.organization_name,
            status=OrganizationStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            industry="Retail",
            default_language="en",
        )
        owner = Employee(
            id=new_id(),
            organization_id=organization.id,
            email=email,
            full_name=content.owner_name,
            role=Role.OWNER,
            status=EmployeeStatus.ACTIVE,
            password_hash=await self._hasher.hash(password),
            created_at=now,
            updated_at=now,
            email_verified_at=now,
        )
        config = BotConfig(
            organization_id=organization.id,
            updated_at=now,
            bot_name=content.bot_name,
            welcome_message=content.welcome_message,
            suggested_questions=list(content.suggested_questions),
            widget=WidgetSettings(primary_color=content.primary_color),
        )
        if content.fallback_message:
            config.fallback_message = content.fallback_message
        await self._organizations.add(organization)
        await self._employees.add(owner)
        await self._configs.add(config)
        await self._uow.commit()
        principal = self._owner(owner)
        entry_ids = [
            (await self._create_entry.from_text(principal, organization.id, title, text)).id
            for title, text in content.entries
        ]
        key, _ = await self._rotate_key(principal, organization.id)
        audit.info("demo organization seeded", extra={"organization_id": str(organization.id)})
        return SeededDemo(organization.id, key, created=True, entry_ids=entry_ids)

    @staticmethod
    def _owner(employee: Employee) -> Principal:
        return Principal(employee.id, employee.organization_id, Role.OWNER, jti="demo-seed", expires_at=0.0)
