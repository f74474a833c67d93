"""Section 2 of the contract: invitations and employees of an organization."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Body, FromPath, FromQuery

from kalamna.application.auth.principal import Principal
from kalamna.application.team import (
    EmployeeChanges,
    GetEmployee,
    InviteEmployee,
    ListEmployees,
    ListInvitations,
    RemoveEmployee,
    ResendInvitation,
    RevokeInvitation,
    UpdateEmployee,
)
from kalamna.domain.identity import EmployeeStatus, Role
from kalamna.domain.invitations import InvitationStatus
from kalamna.ports.security import Clock
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import EmployeeOut, EmployeePage, InvitationOut, InvitationPage, ListOut, MessageOut


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    role: Literal["staff", "owner"]


class EmployeePatchIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["owner", "staff"] | None = None
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    status: Literal["active", "disabled"] | None = None


class TeamController(Controller):
    path = "/orgs/{org_id:uuid}/employee"
    tags = ["employees"]

    @post("/invitations", status_code=201, summary="Invite someone (owner)")
    @inject
    async def invite(
        self,
        org_id: FromPath[UUID],
        data: Annotated[InvitationIn, Body()],
        principal: FromDishka[Principal],
        invite: FromDishka[InviteEmployee],
        clock: FromDishka[Clock],
    ) -> InvitationOut:
        invitation = await invite(principal, org_id, data.email, Role(data.role))
        return InvitationOut.of(invitation, clock.now())

    @get("/invitations", summary="Invitations with their status (owner)")
    @inject
    async def list_invitations(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_invitations: FromDishka[ListInvitations],
        clock: FromDishka[Clock],
        status: FromQuery[Literal["pending", "accepted", "revoked", "expired"] | None] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> InvitationPage:
        page = await list_invitations(
            principal, org_id, InvitationStatus(status) if status else None, page_of(limit, offset)
        )
        now = clock.now()
        return ListOut([InvitationOut.of(i, now) for i in page.items], page.total, page.limit, page.offset)

    @delete("/invitations/{invitation_id:uuid}", status_code=204, summary="Revoke an invitation (owner)")
    @inject
    async def revoke_invitation(
        self,
        org_id: FromPath[UUID],
        invitation_id: FromPath[UUID],
        principal: FromDishka[Principal],
        revoke: FromDishka[RevokeInvitation],
    ) -> None:
        await revoke(principal, org_id, invitation_id)

    @post(
        "/invitations/{invitation_id:uuid}/resend",
        status_code=202,
        summary="Mail a new invitation link; the old one stops working (owner)",
    )
    @inject
    async def resend_invitation(
        self,
        org_id: FromPath[UUID],
        invitation_id: FromPath[UUID],
        principal: FromDishka[Principal],
        resend: FromDishka[ResendInvitation],
    ) -> Response[MessageOut]:
        await resend(principal, org_id, invitation_id)
        return Response(MessageOut("A new invitation email is on its way."), status_code=202)

    @get("/", summary="Employees of the organization")
    @inject
    async def list_employees(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_employees: FromDishka[ListEmployees],
        role: FromQuery[Literal["owner", "staff"] | None] = None,
        status: FromQuery[Literal["pending", "active", "disabled"] | None] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> EmployeePage:
        page = await list_employees(
            principal,
            org_id,
            role=Role(role) if role else None,
            status=EmployeeStatus(status) if status else None,
            page=page_of(limit, offset),
        )
        return ListOut([EmployeeOut.of(e) for e in page.items], page.total, page.limit, page.offset)

    @get("/{employee_id:uuid}", summary="One employee")
    @inject
    async def get_employee(
        self,
        org_id: FromPath[UUID],
        employee_id: FromPath[UUID],
        principal: FromDishka[Principal],
        get_employee: FromDishka[GetEmployee],
    ) -> EmployeeOut:
        return EmployeeOut.of(await get_employee(principal, org_id, employee_id))

    @patch("/{employee_id:uuid}", summary="Change role, name or status (owner)")
    @inject
    async def update_employee(
        self,
        org_id: FromPath[UUID],
        employee_id: FromPath[UUID],
        data: Annotated[EmployeePatchIn, Body()],
        principal: FromDishka[Principal],
        update: FromDishka[UpdateEmployee],
    ) -> EmployeeOut:
        changes = EmployeeChanges(
            role=Role(data.role) if data.role else None,
            full_name=data.full_name,
            status=EmployeeStatus(data.status) if data.status else None,
        )
        return EmployeeOut.of(await update(principal, org_id, employee_id, changes))

    @delete("/{employee_id:uuid}", status_code=204, summary="Remove an employee (owner)")
    @inject
    async def remove_employee(
        self,
        org_id: FromPath[UUID],
        employee_id: FromPath[UUID],
        principal: FromDishka[Principal],
        remove: FromDishka[RemoveEmployee],
    ) -> None:
        await remove(principal, org_id, employee_id)
