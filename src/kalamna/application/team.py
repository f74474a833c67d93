"""Invitations and employees of an organization."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.emails import Links, invitation_email
from kalamna.application.auth.login import SignedIn
from kalamna.application.auth.one_time import issue_one_time_token
from kalamna.application.auth.principal import Principal
from kalamna.application.auth.sessions import RevokeEverySession, SessionIssuer
from kalamna.application.mail import QueueMail
from kalamna.domain.errors import (
    EmailTaken,
    InvalidInput,
    InvalidToken,
    LastOwner,
    NotFound,
    OrganizationSuspended,
)
from kalamna.domain.identity import (
    Employee,
    EmployeeStatus,
    Organization,
    OrganizationStatus,
    Role,
    normalize_email,
)
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.passwords import validate_new_password
from kalamna.domain.policy import Action
from kalamna.domain.tokens import OneTimeToken, TokenPurpose
from kalamna.ports.repositories import (
    EmployeeRepository,
    InvitationRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, PasswordHasher, SecretTokens

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class InvitationPolicy:
    ttl: timedelta = timedelta(days=7)


class InvitationSender:
    """Issue a fresh token for an invitation (killing older ones) and queue its email."""

    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        mail: QueueMail,
        links: Links,
        clock: Clock,
        policy: InvitationPolicy,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._mail = mail
        self._links = links
        self._clock = clock
        self.policy = policy

    async def send(self, invitation: Invitation, organization: Organization, inviter_name: str) -> None:
        now = self._clock.now()
        await self._tokens.revoke_for_invitation(invitation.id, now)
        raw = await issue_one_time_token(
            self._tokens,
            self._secrets,
            purpose=TokenPurpose.INVITATION,
            now=now,
            expires_at=invitation.expires_at,
            invitation_id=invitation.id,
        )
        message = invitation_email(
            invitation.email,
            organization.name,
            inviter_name,
            invitation.role.value,
            self._links.accept_invitation(raw),
            self.policy.ttl.days,
        )
        await self._mail(message, kind="invitation")


class InviteEmployee:
    def __init__(
        self,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        invitations: InvitationRepository,
        tokens: OneTimeTokenRepository,
        sender: InvitationSender,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._organizations = organizations
        self._employees = employees
        self._invitations = invitations
        self._tokens = tokens
        self._sender = sender
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, principal: Principal, organization_id: UUID, email: str, role: Role, *, commit: bool = True
    ) -> Invitation:
        require(principal, organization_id, Action.MANAGE_INVITATIONS)
        if role not in (Role.OWNER, Role.STAFF):
            raise InvalidInput(
                "An invitation is for an owner or a staff member.", extra={"fields": [{"key": "role"}]}
            )
        address = normalize_email(email)
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise NotFound()
        if organization.status is OrganizationStatus.SUSPENDED:
            # Its invitations could not be accepted (suspension voids them, reactivation does not
            # revive them): refuse now rather than mail a link that fails.
            raise OrganizationSuspended()
        if await self._employees.get_by_email(address) is not None:
            raise EmailTaken()
        now = self._clock.now()
        previous = await self._invitations.find_pending_by_email(organization_id, address, now)
        if previous is not None:  # a second invitation to the same pending email replaces the first
            previous.revoke(now)
            await self._invitations.save(previous)
            await self._tokens.revoke_for_invitation(previous.id, now)
        inviter = await self._employees.get(principal.employee_id)
        invitation = Invitation(
            id=new_id(),
            organization_id=organization_id,
            email=address,
            role=role,
            invited_by=principal.employee_id,
            expires_at=now + self._sender.policy.ttl,
            created_at=now,
        )
        await self._invitations.add(invitation)
        await self._sender.send(invitation, organization, inviter.full_name if inviter else "Kalamna")
        if commit:
            await self._uow.commit()
        audit.info(
            "employee invited",
            extra={"organization_id": str(organization_id), "invitation_id": str(invitation.id)},
        )
        return invitation


async def require_existing(
    organizations: OrganizationRepository, principal: Principal, organization_id: UUID
) -> None:
    """A superuser may name any organization: an unknown one is 404, as for a single resource (an
    employee's own organization exists, so their lists skip the lookup)."""
    if principal.is_superuser and await organizations.get(organization_id) is None:
        raise NotFound()


class ListInvitations:
    def __init__(
        self, invitations: InvitationRepository, organizations: OrganizationRepository, clock: Clock
    ) -> None:
        self._invitations = invitations
        self._organizations = organizations
        self._clock = clock

    async def __call__(
        self, principal: Principal, organization_id: UUID, status: InvitationStatus | None, page: PageRequest
    ) -> Page[Invitation]:
        require(principal, organization_id, Action.MANAGE_INVITATIONS)
        await require_existing(self._organizations, principal, organization_id)
        return await self._invitations.search(
            organization_id, status=status, now=self._clock.now(), page=page
        )


class RevokeInvitation:
    def __init__(
        self, invitations: InvitationRepository, tokens: OneTimeTokenRepository, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._invitations = invitations
        self._tokens = tokens
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, organization_id: UUID, invitation_id: UUID) -> None:
        require(principal, organization_id, Action.MANAGE_INVITATIONS)
        invitation = await self._invitations.get(organization_id, invitation_id)
        if invitation is None:
            raise NotFound()
        now = self._clock.now()
        invitation.revoke(now)
        await self._invitations.save(invitation)
        await self._tokens.revoke_for_invitation(invitation.id, now)
        await self._uow.commit()


class ResendInvitation:
    def __init__(
        self,
        invitations: InvitationRepository,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        sender: InvitationSender,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._invitations = invitations
        self._organizations = organizations
        self._employees = employees
        self._sender = sender
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, organization_id: UUID, invitation_id: UUID) -> Invitation:
        require(principal, organization_id, Action.MANAGE_INVITATIONS)
        invitation = await self._invitations.get(organization_id, invitation_id)
        organization = await self._organizations.get(organization_id)
        if invitation is None or organization is None:
            raise NotFound()
        try:
            invitation.renew(self._clock.now() + self._sender.policy.ttl)
        except InvalidToken as exc:
            raise InvalidInput(exc.detail) from exc
        invitation.invited_by = principal.employee_id  # whoever re-sends it now vouches for it
        await self._invitations.save(invitation)
        sender = await self._employees.get(principal.employee_id)
        await self._sender.send(invitation, organization, sender.full_name if sender else "Kalamna")
        await self._uow.commit()
        return invitation


@dataclass(frozen=True, slots=True)
class InvitationDetails:
    invitation: Invitation
    organization: Organization
    inviter_name: str | None


class _InvitationTokens:
    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        invitations: InvitationRepository,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._invitations = invitations
        self._organizations = organizations
        self._employees = employees
        self._clock = clock

    async def load(self, raw_token: str) -> tuple[OneTimeToken, Invitation, Organization]:
        now = self._clock.now()
        token = await self._tokens.find(self._secrets.digest(raw_token), TokenPurpose.INVITATION)
        if token is None or token.invitation_id is None:
            raise InvalidToken()
        token.ensure_usable(TokenPurpose.INVITATION, now)
        invitation = await self._invitations.get_by_id(token.invitation_id)
        if invitation is None:
            raise InvalidToken()
        invitation.ensure_pending(now)
        organization = await self._organizations.get(invitation.organization_id)
        if organization is None or organization.status is not OrganizationStatus.ACTIVE:
            raise InvalidToken()
        await self._ensure_inviter_active(invitation)
        return token, invitation, organization

    async def _ensure_inviter_active(self, invitation: Invitation) -> None:
        """An invitation speaks for its inviter: once they are removed or disabled, it stops working."""
        inviter = await self._employees.get(invitation.invited_by) if invitation.invited_by else None
        if inviter is None or inviter.status is not EmployeeStatus.ACTIVE:
            raise InvalidToken()
        if not inviter.is_superuser and inviter.organization_id != invitation.organization_id:
            raise InvalidToken()


class VerifyInvitation(_InvitationTokens):
    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        invitations: InvitationRepository,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        clock: Clock,
    ) -> None:
        super().__init__(tokens, secrets, invitations, organizations, employees, clock)

    async def __call__(self, raw_token: str) -> InvitationDetails:
        _, invitation, organization = await self.load(raw_token)
        inviter = await self._employees.get(invitation.invited_by) if invitation.invited_by else None
        return InvitationDetails(invitation, organization, inviter.full_name if inviter else None)


class AcceptInvitation(_InvitationTokens):
    """Creates an active employee with the invited role and signs them in."""

    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        invitations: InvitationRepository,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        hasher: PasswordHasher,
        sessions: SessionIssuer,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        super().__init__(tokens, secrets, invitations, organizations, employees, clock)
        self._hasher = hasher
        self._sessions = sessions
        self._uow = uow

    async def __call__(self, raw_token: str, full_name: str, password: str) -> SignedIn:
        token, invitation, organization = await self.load(raw_token)
        validate_new_password(password)
        name = full_name.strip()
        if not name:
            raise InvalidInput("Your name is required.", extra={"fields": [{"key": "full_name"}]})
        if await self._employees.get_by_email(invitation.email) is not None:
            raise EmailTaken()
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        if not await self._tokens.consume(token.id, now):
            raise InvalidToken()
        invitation.accept(now)
        await self._invitations.save(invitation)
        employee = Employee(
            id=new_id(),
            organization_id=invitation.organization_id,
            email=invitation.email,
            full_name=name,
            role=invitation.role,
            status=EmployeeStatus.ACTIVE,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            email_verified_at=now,  # the invitation reached this inbox
            last_login_at=now,
        )
        await self._employees.add(employee)
        tokens = await self._sessions.start(employee)
        await self._uow.commit()
        audit.info("invitation accepted", extra={"employee_id": str(employee.id)})
        return SignedIn(tokens=tokens, employee=employee, organization=organization)


class ListEmployees:
    def __init__(self, employees: EmployeeRepository, organizations: OrganizationRepository) -> None:
        self._employees = employees
        self._organizations = organizations

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        *,
        role: Role | None,
        status: EmployeeStatus | None,
        page: PageRequest,
    ) -> Page[Employee]:
        require(principal, organization_id, Action.READ_EMPLOYEES)
        await require_existing(self._organizations, principal, organization_id)
        return await self._employees.search(organization_id, role=role, status=status, page=page)


class GetEmployee:
    def __init__(self, employees: EmployeeRepository) -> None:
        self._employees = employees

    async def __call__(self, principal: Principal, organization_id: UUID, employee_id: UUID) -> Employee:
        require(principal, organization_id, Action.READ_EMPLOYEES)
        employee = await self._employees.get_in_organization(organization_id, employee_id)
        if employee is None:
            raise NotFound()
        return employee


@dataclass(frozen=True, slots=True)
class EmployeeChanges:
    role: Role | None = None
    full_name: str | None = None
    status: EmployeeStatus | None = None


class UpdateEmployee:
    def __init__(
        self,
        employees: EmployeeRepository,
        revoke_sessions: RevokeEverySession,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._employees = employees
        self._revoke_sessions = revoke_sessions
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, principal: Principal, organization_id: UUID, employee_id: UUID, changes: EmployeeChanges
    ) -> Employee:
        require(principal, organization_id, Action.MANAGE_EMPLOYEES)
        employee = await self._employees.get_in_organization(organization_id, employee_id)
        if employee is None:
            raise NotFound()
        if changes.role not in (None, Role.OWNER, Role.STAFF):
            raise InvalidInput("Role must be owner or staff.", extra={"fields": [{"key": "role"}]})
        if changes.status not in (None, EmployeeStatus.ACTIVE, EmployeeStatus.DISABLED):
            raise InvalidInput("Status must be active or disabled.", extra={"fields": [{"key": "status"}]})
        stays_active_owner = (changes.role or employee.role) is Role.OWNER and (
            changes.status or employee.status
        ) is EmployeeStatus.ACTIVE
        is_active_owner = employee.role is Role.OWNER and employee.status is EmployeeStatus.ACTIVE
        if (
            is_active_owner
            and not stays_active_owner
            and await self._employees.count_active_owners(organization_id, lock=True) <= 1
        ):
            raise LastOwner()
        disabling = (
            changes.status is EmployeeStatus.DISABLED and employee.status is not EmployeeStatus.DISABLED
        )
        role_changed = changes.role is not None and changes.role is not employee.role
        if changes.full_name is not None:
            if not changes.full_name.strip():
                raise InvalidInput("The name must not be empty.", extra={"fields": [{"key": "full_name"}]})
            employee.full_name = changes.full_name.strip()
        if changes.role is not None:
            employee.role = changes.role
        if changes.status is not None:
            employee.status = changes.status
        employee.updated_at = self._clock.now()
        await self._employees.save(employee)
        if disabling or role_changed:
            # A role change re-issues claims: old tokens carrying the old role must not linger.
            await self._revoke_sessions(employee.id)
        await self._uow.commit()
        audit.info(
            "employee updated",
            extra={"employee_id": str(employee.id), "by": str(principal.employee_id), "disabled": disabling},
        )
        return employee


class RemoveEmployee:
    def __init__(
        self, employees: EmployeeRepository, revoke_sessions: RevokeEverySession, uow: UnitOfWork
    ) -> None:
        self._employees = employees
        self._revoke_sessions = revoke_sessions
        self._uow = uow

    async def __call__(self, principal: Principal, organization_id: UUID, employee_id: UUID) -> None:
        require(principal, organization_id, Action.MANAGE_EMPLOYEES)
        employee = await self._employees.get_in_organization(organization_id, employee_id)
        if employee is None:
            raise NotFound()
        is_active_owner = employee.role is Role.OWNER and employee.status is EmployeeStatus.ACTIVE
        if is_active_owner and await self._employees.count_active_owners(organization_id, lock=True) <= 1:
            raise LastOwner()
        await self._revoke_sessions(employee.id)
        await self._employees.delete(organization_id, employee.id)
        await self._uow.commit()
        audit.info(
            "employee removed", extra={"employee_id": str(employee.id), "by": str(principal.employee_id)}
        )
