"""Sections 4 and 8 (but analytics) of the contract: organization, bot config, API key, platform."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get, patch, post, put
from litestar.params import Body, FromPath, FromQuery, Parameter

from kalamna.application.auth.principal import Principal
from kalamna.application.credentials import GetCredentialStatus, RotateApiKey
from kalamna.application.organizations import (
    GetBotConfig,
    GetOrganization,
    UpdateBotConfig,
    UpdateOrganization,
)
from kalamna.application.platform import (
    AdministerOrganization,
    CreateOrganization,
    ListOrganizations,
    NewOrganization,
)
from kalamna.domain import limits
from kalamna.domain.identity import OrganizationStatus
from kalamna.ports.security import Clock
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import BotConfigOut, InvitationOut, ListOut, OrganizationOut, OrganizationPage

Short = Annotated[str, msgspec.Meta(max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=limits.WEBSITE_MAX)]
Text = Annotated[str, msgspec.Meta(max_length=limits.DESCRIPTION_MAX)]
Tag = Annotated[str, msgspec.Meta(max_length=64)]
OrgName = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.ORGANIZATION_NAME_MAX)]
Industry = Annotated[str, msgspec.Meta(max_length=limits.INDUSTRY_MAX)]
Country = Annotated[str, msgspec.Meta(max_length=limits.COUNTRY_MAX)]
TimeZone = Annotated[str, msgspec.Meta(max_length=limits.TIMEZONE_MAX)]
LanguageTag = Annotated[str, msgspec.Meta(max_length=limits.LANGUAGE_TAG_MAX)]


class OrganizationIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT /orgs/{id}: ``name`` required; omitted optional fields keep their value."""

    name: OrgName
    industry: Industry | msgspec.UnsetType | None = msgspec.UNSET
    website: Url | msgspec.UnsetType | None = msgspec.UNSET
    description: Text | msgspec.UnsetType | None = msgspec.UNSET
    country: Country | msgspec.UnsetType | None = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType | None = msgspec.UNSET
    default_language: LanguageTag | msgspec.UnsetType | None = msgspec.UNSET


class OrganizationPatchIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["active", "suspended"] | msgspec.UnsetType = msgspec.UNSET
    name: OrgName | msgspec.UnsetType = msgspec.UNSET
    industry: Industry | msgspec.UnsetType | None = msgspec.UNSET
    website: Url | msgspec.UnsetType | None = msgspec.UNSET
    description: Text | msgspec.UnsetType | None = msgspec.UNSET
    country: Country | msgspec.UnsetType | None = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType | None = msgspec.UNSET
    default_language: LanguageTag | msgspec.UnsetType | None = msgspec.UNSET


class NewOrganizationIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_name: OrgName
    owner_email: Annotated[str, msgspec.Meta(min_length=3, max_length=limits.EMAIL_MAX)]
    owner_full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.PERSON_NAME_MAX)]
    industry: Industry | None = None
    website: Url | None = None
    description: Text | None = None
    country: Country | None = None
    timezone: TimeZone | None = None
    default_language: LanguageTag | None = None


class NewOrganizationOut(msgspec.Struct):
    organization: OrganizationOut
    invitation: InvitationOut


class WidgetIn(msgspec.Struct, forbid_unknown_fields=True):
    primary_color: Annotated[str, msgspec.Meta(max_length=7)] | msgspec.UnsetType = msgspec.UNSET
    position: Literal["left", "right"] | msgspec.UnsetType = msgspec.UNSET
    allowed_origins: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]], msgspec.Meta(max_length=50)]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class HandoverSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    after_fallbacks: int | msgspec.UnsetType = msgspec.UNSET
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | msgspec.UnsetType = msgspec.UNSET
    messages: (
        Annotated[dict[Annotated[str, msgspec.Meta(max_length=35)], str], msgspec.Meta(max_length=20)]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class BotConfigIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every field optional: omitted fields keep their value."""

    bot_name: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=limits.BOT_NAME_MAX)] | msgspec.UnsetType
    ) = msgspec.UNSET
    welcome_message: Annotated[str, msgspec.Meta(max_length=1000)] | msgspec.UnsetType = msgspec.UNSET
    tone: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.TONE_MAX)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    language: (
        Annotated[str, msgspec.Meta(min_length=2, max_length=limits.LANGUAGE_TAG_MAX)] | msgspec.UnsetType
    ) = msgspec.UNSET
    instructions: Annotated[str, msgspec.Meta(max_length=4000)] | msgspec.UnsetType = msgspec.UNSET
    fallback_message: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    temperature: float | msgspec.UnsetType = msgspec.UNSET
    max_answer_tokens: int | msgspec.UnsetType = msgspec.UNSET
    top_k: int | msgspec.UnsetType = msgspec.UNSET
    min_score: float | msgspec.UnsetType = msgspec.UNSET
    suggested_questions: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=200)]], msgspec.Meta(max_length=10)]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    widget: WidgetIn | msgspec.UnsetType = msgspec.UNSET
    handover: HandoverSettingsIn | msgspec.UnsetType = msgspec.UNSET
    fallback_messages: (
        Annotated[dict[Annotated[str, msgspec.Meta(max_length=35)], str], msgspec.Meta(max_length=20)]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class CredentialStatusOut(msgspec.Struct):
    has_key: bool
    prefix: str | None
    created_at: datetime | None
    last_used_at: datetime | None


class NewCredentialOut(msgspec.Struct):
    api_key: str
    prefix: str
    created_at: datetime


def _given(struct: msgspec.Struct, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        name: value
        for name in struct.__struct_fields__
        if name not in exclude and (value := getattr(struct, name)) is not msgspec.UNSET
    }


class OrganizationController(Controller):
    path = "/orgs"
    tags = ["organizations"]

    @get("/", summary="All organizations (superuser)", tags=["platform"])
    @inject
    async def list_organizations(
        self,
        principal: FromDishka[Principal],
        list_organizations: FromDishka[ListOrganizations],
        status: FromQuery[Literal["pending", "active", "suspended"] | None] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> OrganizationPage:
        page = await list_organizations(
            principal,
            status=OrganizationStatus(status) if status else None,
            query=q,
            page=page_of(limit, offset),
        )
        return ListOut([OrganizationOut.of(o) for o in page.items], page.total, page.limit, page.offset)

    @post(
        "/",
        status_code=201,
        summary="Create an organization with an invited owner (superuser)",
        tags=["platform"],
    )
    @inject
    async def create_organization(
        self,
        data: Annotated[NewOrganizationIn, Body()],
        principal: FromDishka[Principal],
        create: FromDishka[CreateOrganization],
        clock: FromDishka[Clock],
    ) -> NewOrganizationOut:
        profile = _given(data, exclude=("organization_name", "owner_email", "owner_full_name"))
        organization, invitation = await create(
            principal,
            NewOrganization(
                profile={"name": data.organization_name, **profile},
                owner_email=data.owner_email,
                owner_full_name=data.owner_full_name,
            ),
        )
        return NewOrganizationOut(OrganizationOut.of(organization), InvitationOut.of(invitation, clock.now()))

    @get("/{org_id:uuid}", summary="Read an organization")
    @inject
    async def get_organization(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        get_organization: FromDishka[GetOrganization],
    ) -> OrganizationOut:
        return OrganizationOut.of(await get_organization(principal, org_id))

    @put("/{org_id:uuid}", summary="Update the organization profile (owner)")
    @inject
    async def update_organization(
        self,
        org_id: FromPath[UUID],
        data: Annotated[OrganizationIn, Body()],
        principal: FromDishka[Principal],
        update: FromDishka[UpdateOrganization],
    ) -> OrganizationOut:
        return OrganizationOut.of(await update(principal, org_id, _given(data)))

    @patch(
        "/{org_id:uuid}", summary="Change status or fields of any organization (superuser)", tags=["platform"]
    )
    @inject
    async def administer_organization(
        self,
        org_id: FromPath[UUID],
        data: Annotated[OrganizationPatchIn, Body()],
        principal: FromDishka[Principal],
        administer: FromDishka[AdministerOrganization],
    ) -> OrganizationOut:
        status = data.status if data.status is not msgspec.UNSET else None
        organization = await administer(
            principal,
            org_id,
            status=OrganizationStatus(status) if status else None,
            profile=_given(data, exclude=("status",)),
        )
        return OrganizationOut.of(organization)

    @get("/{org_id:uuid}/config", summary="Read the bot configuration")
    @inject
    async def get_config(
        self, org_id: FromPath[UUID], principal: FromDishka[Principal], get_config: FromDishka[GetBotConfig]
    ) -> BotConfigOut:
        return BotConfigOut.of(await get_config(principal, org_id))

    @put("/{org_id:uuid}/config", summary="Update the bot configuration (owner)")
    @inject
    async def update_config(
        self,
        org_id: FromPath[UUID],
        data: Annotated[BotConfigIn, Body()],
        principal: FromDishka[Principal],
        update: FromDishka[UpdateBotConfig],
    ) -> BotConfigOut:
        changes = _given(data, exclude=("widget", "handover"))
        if data.widget is not msgspec.UNSET:
            changes["widget"] = _given(data.widget)
        if data.handover is not msgspec.UNSET:
            changes["handover"] = _given(data.handover)
        return BotConfigOut.of(await update(principal, org_id, changes))

    @get("/{org_id:uuid}/credentials", summary="API key status (never the key)")
    @inject
    async def credential_status(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        status: FromDishka[GetCredentialStatus],
    ) -> CredentialStatusOut:
        current = await status(principal, org_id)
        return CredentialStatusOut(current.has_key, current.prefix, current.created_at, current.last_used_at)

    @post(
        "/{org_id:uuid}/credentials",
        status_code=201,
        summary="Create a new API key; the old one stops working",
    )
    @inject
    async def rotate_credentials(
        self, org_id: FromPath[UUID], principal: FromDishka[Principal], rotate: FromDishka[RotateApiKey]
    ) -> NewCredentialOut:
        raw, credential = await rotate(principal, org_id)
        return NewCredentialOut(
            api_key=raw, prefix=credential.display_prefix, created_at=credential.created_at
        )
