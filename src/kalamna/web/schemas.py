"""Response shapes shared by several controllers (the contract's object shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.params import KwargDefinition

from kalamna.application.auth.sessions import TokenPair
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Employee, Organization
from kalamna.domain.invitations import Invitation

T = TypeVar("T")


class ListOut(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def schema_name(name: str) -> KwargDefinition:
    """Name a generic response in the OpenAPI document, e.g. ``Annotated[ListOut[X], schema_name("XPage")]``.

    Litestar names a parametrised generic by the module path of its argument
    (``ListOut_kalamna.web.controllers.widget.MessageOut_``); this gives it a capability name instead.
    """
    return KwargDefinition(schema_component_key=name, title=name)


class OrganizationOut(msgspec.Struct):
    id: UUID
    name: str
    industry: str | None
    website: str | None
    description: str | None
    country: str | None
    timezone: str | None
    default_language: str | None
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(
            id=org.id,
            name=org.name,
            industry=org.industry,
            website=org.website,
            description=org.description,
            country=org.country,
            timezone=org.timezone,
            default_language=org.default_language,
            status=org.status.value,
            created_at=org.created_at,
            updated_at=org.updated_at,
        )


OrganizationPage = Annotated[ListOut[OrganizationOut], schema_name("OrganizationPage")]


class EmployeeOut(msgspec.Struct):
    id: UUID
    organization_id: UUID | None
    email: str
    full_name: str
    role: str
    status: str
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, employee: Employee) -> EmployeeOut:
        return cls(
            id=employee.id,
            organization_id=employee.organization_id,
            email=employee.email,
            full_name=employee.full_name,
            role=employee.role.value,
            status=employee.status.value,
            created_at=employee.created_at,
            last_login_at=employee.last_login_at,
        )


EmployeePage = Annotated[ListOut[EmployeeOut], schema_name("EmployeePage")]


class TokenPairOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


class MessageOut(msgspec.Struct):
    message: str


class SourceOut(msgspec.Struct):
    entry_id: UUID
    title: str
    score: float


class InvitationOut(msgspec.Struct):
    id: UUID
    organization_id: UUID
    email: str
    role: str
    status: str
    invited_by: UUID | None
    expires_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationOut:
        return cls(
            id=invitation.id,
            organization_id=invitation.organization_id,
            email=invitation.email,
            role=invitation.role.value,
            status=invitation.status(now).value,
            invited_by=invitation.invited_by,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
        )


InvitationPage = Annotated[ListOut[InvitationOut], schema_name("InvitationPage")]


class WidgetOut(msgspec.Struct):
    primary_color: str
    position: str
    allowed_origins: list[str]


class HandoverSettingsOut(msgspec.Struct):
    enabled: bool
    after_fallbacks: int
    message: str
    messages: dict[str, str] = {}


class BotConfigOut(msgspec.Struct):
    bot_name: str
    welcome_message: str
    tone: str
    language: str
    instructions: str
    fallback_message: str
    temperature: float
    max_answer_tokens: int
    top_k: int
    min_score: float
    suggested_questions: list[str]
    widget: WidgetOut
    handover: HandoverSettingsOut
    updated_at: datetime
    fallback_messages: dict[str, str] = {}

    @classmethod
    def of(cls, config: BotConfig) -> BotConfigOut:
        return cls(
            bot_name=config.bot_name,
            welcome_message=config.welcome_message,
            tone=config.tone,
            language=config.language,
            instructions=config.instructions,
            fallback_message=config.fallback_message,
            temperature=config.temperature,
            max_answer_tokens=config.max_answer_tokens,
            top_k=config.top_k,
            min_score=config.min_score,
            suggested_questions=list(config.suggested_questions),
            widget=WidgetOut(
                primary_color=config.widget.primary_color,
                position=config.widget.position,
                allowed_origins=list(config.widget.allowed_origins),
            ),
            handover=HandoverSettingsOut(
                config.handover.enabled,
                config.handover.after_fallbacks,
                config.handover.message,
                dict(config.handover.messages),
            ),
            updated_at=config.updated_at,
            fallback_messages=dict(config.fallback_messages),
        )
