"""Sections 1 and 3 of the contract: registration, verification, sign-in, sessions, passwords."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, Response, get, post
from litestar.params import Body, FromPath

from kalamna.application.auth.login import Login, SignedIn
from kalamna.application.auth.me import GetMe
from kalamna.application.auth.passwords import ChangePassword, CheckResetToken, ResetPassword
from kalamna.application.auth.principal import Principal
from kalamna.application.auth.registration import RegisterOrganization, Registration
from kalamna.application.auth.sessions import Logout, RefreshTokens
from kalamna.application.auth.verification import VerifyEmail
from kalamna.application.team import AcceptInvitation, VerifyInvitation
from kalamna.config import Settings
from kalamna.domain import limits
from kalamna.domain.errors import InvalidCredentials
from kalamna.domain.identity import normalize_email
from kalamna.ports.jobs import REQUEST_PASSWORD_RESET, RESEND_VERIFICATION, JobQueue
from kalamna.ports.security import RateLimiter
from kalamna.web.errors import ApiError, budget_headers
from kalamna.web.schemas import EmployeeOut, MessageOut, OrganizationOut, TokenPairOut
from kalamna.web.security import TrustedProxies, client_ip, consume, settings_limit

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=limits.EMAIL_MAX)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.PERSON_NAME_MAX)]
OrganizationName = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.ORGANIZATION_NAME_MAX)]


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_name: OrganizationName
    full_name: Name
    email: Email
    password: Password
    industry: Annotated[str, msgspec.Meta(max_length=limits.INDUSTRY_MAX)] | None = None
    website: Annotated[str, msgspec.Meta(max_length=limits.WEBSITE_MAX)] | None = None
    country: Annotated[str, msgspec.Meta(max_length=limits.COUNTRY_MAX)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=limits.TIMEZONE_MAX)] | None = None


class RegisterOut(msgspec.Struct):
    organization: OrganizationOut
    employee: EmployeeOut
    message: str


class VerifyOut(msgspec.Struct):
    message: str
    organization: OrganizationOut
    employee: EmployeeOut


class EmailIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class LoginOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    employee: EmployeeOut

    @classmethod
    def of(cls, signed_in: SignedIn) -> LoginOut:
        pair = signed_in.tokens
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
            employee=EmployeeOut.of(signed_in.employee),
        )


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Token


class MeOut(msgspec.Struct):
    id: Any
    organization_id: Any
    email: str
    full_name: str
    role: str
    status: str
    created_at: datetime
    last_login_at: datetime | None
    organization: OrganizationOut | None


class ResetCheckOut(msgspec.Struct):
    valid: bool
    expires_at: datetime


class ResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    new_password: Password


class ChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class ChangeOut(msgspec.Struct):
    """The contract's ``{message}``, plus a fresh pair: every older session, this one included, ended."""

    message: str
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class InvitationOrganizationOut(msgspec.Struct):
    id: UUID
    name: str


class InviterOut(msgspec.Struct):
    full_name: str | None


class InvitationCheckOut(msgspec.Struct):
    organization: InvitationOrganizationOut
    email: str
    role: str
    expires_at: datetime
    invited_by: InviterOut


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    full_name: Name
    password: Password


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


ACCEPTED = "If an account matches, we have sent an email with the next step."


async def _email_action(
    request: Request[Any, Any, Any],
    action: str,
    task: str,
    data: EmailIn,
    jobs: JobQueue,
    limiter: RateLimiter,
    settings: Settings,
) -> Response[MessageOut]:
    """Rate-limit per client IP (both actions together), then per email address, and queue ``task``.

    The address is checked for its format only (422); the account lookup runs as a job, so known and
    unknown addresses take the same time here.
    """
    address = normalize_email(data.email)
    ip = client_ip(request, TrustedProxies(settings.trusted_proxies))
    await consume(limiter, f"email-actions-ip:{ip}", settings_limit(settings, "email_actions_per_ip"))
    headers = await consume(
        limiter, f"{action}:{_email_key(address)}", settings_limit(settings, "email_actions")
    )
    await jobs.enqueue(task, email=address)
    return Response(MessageOut(ACCEPTED), status_code=202, headers=headers)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/register", status_code=201, summary="Register an organization and its owner")
    @inject
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[RegisterIn, Body()],
        register: FromDishka[RegisterOrganization],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
    ) -> Response[RegisterOut]:
        ip = client_ip(request, TrustedProxies(settings.trusted_proxies))
        headers = await consume(limiter, f"register:{ip}", settings_limit(settings, "registrations"))
        organization, employee = await register(
            Registration(
                organization_name=data.organization_name,
                full_name=data.full_name,
                email=data.email,
                password=data.password,
                industry=data.industry,
                website=data.website,
                country=data.country,
                timezone=data.timezone,
            )
        )
        body = RegisterOut(
            organization=OrganizationOut.of(organization),
            employee=EmployeeOut.of(employee),
            message="Check your inbox to verify your email address.",
        )
        return Response(body, status_code=201, headers=headers)

    @get("/verify/{token:str}", summary="Verify an email address")
    @inject
    async def verify(self, token: FromPath[str], verify_email: FromDishka[VerifyEmail]) -> VerifyOut:
        organization, employee = await verify_email(token)
        return VerifyOut(
            message="Your email is verified; you can sign in now.",
            organization=OrganizationOut.of(organization),
            employee=EmployeeOut.of(employee),
        )

    @post("/verify/resend", status_code=202, summary="Send the verification email again")
    @inject
    async def resend(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[EmailIn, Body()],
        jobs: FromDishka[JobQueue],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
    ) -> Response[MessageOut]:
        return await _email_action(request, "resend", RESEND_VERIFICATION, data, jobs, limiter, settings)

    @post("/login", status_code=200, summary="Sign in")
    @inject
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginIn, Body()],
        sign_in: FromDishka[Login],
        settings: FromDishka[Settings],
    ) -> Response[LoginOut]:
        signed_in = await sign_in(
            data.email, data.password, client_ip=client_ip(request, TrustedProxies(settings.trusted_proxies))
        )
        headers = {}
        if signed_in.budget is not None:
            limit, remaining, reset = signed_in.budget
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
        return Response(LoginOut.of(signed_in), status_code=200, headers=headers)

    @post("/refresh", status_code=200, summary="Exchange a refresh token for a new pair")
    @inject
    async def refresh(
        self, data: Annotated[RefreshIn, Body()], refresh: FromDishka[RefreshTokens]
    ) -> TokenPairOut:
        return TokenPairOut.of(await refresh(data.refresh_token))

    @post("/logout", status_code=204, summary="Sign out")
    @inject
    async def logout(
        self, data: Annotated[RefreshIn, Body()], principal: FromDishka[Principal], logout: FromDishka[Logout]
    ) -> None:
        await logout(
            employee_id=principal.employee_id,
            jti=principal.jti,
            access_expires_at=principal.expires_at,
            refresh_token=data.refresh_token,
        )

    @get("/me", summary="The signed-in employee")
    @inject
    async def me(self, principal: FromDishka[Principal], get_me: FromDishka[GetMe]) -> MeOut:
        employee, organization = await get_me(principal)
        out = EmployeeOut.of(employee)
        return MeOut(
            **msgspec.structs.asdict(out),
            organization=OrganizationOut.of(organization) if organization else None,
        )

    @post("/password/forgot", status_code=202, summary="Email a password-reset link")
    @inject
    async def forgot(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[EmailIn, Body()],
        jobs: FromDishka[JobQueue],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
    ) -> Response[MessageOut]:
        return await _email_action(request, "forgot", REQUEST_PASSWORD_RESET, data, jobs, limiter, settings)

    @get("/password/reset/verify/{token:str}", summary="Check a password-reset token")
    @inject
    async def check_reset(self, token: FromPath[str], check: FromDishka[CheckResetToken]) -> ResetCheckOut:
        return ResetCheckOut(valid=True, expires_at=await check(token))

    @post("/password/reset", status_code=200, summary="Set a new password with a reset token")
    @inject
    async def reset(self, data: Annotated[ResetIn, Body()], reset: FromDishka[ResetPassword]) -> MessageOut:
        await reset(data.token, data.new_password)
        return MessageOut("Your password has been reset; sign in with the new one.")

    @post("/password/change", status_code=200, summary="Change your password")
    @inject
    async def change(
        self,
        data: Annotated[ChangeIn, Body()],
        principal: FromDishka[Principal],
        change: FromDishka[ChangePassword],
    ) -> ChangeOut:
        try:
            pair = await change(principal.employee_id, data.current_password, data.new_password)
        except InvalidCredentials as exc:
            raise ApiError(400, exc.code, exc.detail, headers=budget_headers(exc) or None) from exc
        return ChangeOut(
            message="Your password has been changed; other sessions were signed out.",
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )

    @get("/invitations/verify/{token:str}", summary="Check an invitation link")
    @inject
    async def check_invitation(
        self, token: FromPath[str], verify: FromDishka[VerifyInvitation]
    ) -> InvitationCheckOut:
        details = await verify(token)
        return InvitationCheckOut(
            organization=InvitationOrganizationOut(details.organization.id, details.organization.name),
            email=details.invitation.email,
            role=details.invitation.role.value,
            expires_at=details.invitation.expires_at,
            invited_by=InviterOut(details.inviter_name),
        )

    @post("/invitations/{token:str}/accept", status_code=201, summary="Accept an invitation and sign in")
    @inject
    async def accept_invitation(
        self, token: FromPath[str], data: Annotated[AcceptIn, Body()], accept: FromDishka[AcceptInvitation]
    ) -> LoginOut:
        return LoginOut.of(await accept(token, data.full_name, data.password))
