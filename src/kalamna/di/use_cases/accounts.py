"""Accounts: sign-up, sign-in, sessions and passwords; account mail; organizations, their team, API keys
and the superuser's platform administration."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from kalamna.application.auth.attempts import PasswordAttempts
from kalamna.application.auth.login import Login
from kalamna.application.auth.me import GetMe
from kalamna.application.auth.passwords import ChangePassword, CheckResetToken, ForgotPassword, ResetPassword
from kalamna.application.auth.principal import AuthenticateAccessToken
from kalamna.application.auth.registration import RegisterOrganization, VerificationMailer
from kalamna.application.auth.sessions import Logout, RefreshTokens, RevokeEverySession, SessionIssuer
from kalamna.application.auth.superuser import AuthenticateSuperuser, CreateSuperuser
from kalamna.application.auth.verification import ResendVerification, VerifyEmail
from kalamna.application.credentials import AuthenticateApiKey, GetCredentialStatus, RotateApiKey
from kalamna.application.mail import DeliverMail, QueueMail, RequeueUnsentMail
from kalamna.application.organizations import (
    GetBotConfig,
    GetOrganization,
    UpdateBotConfig,
    UpdateOrganization,
)
from kalamna.application.platform import AdministerOrganization, CreateOrganization, ListOrganizations
from kalamna.application.team import (
    AcceptInvitation,
    GetEmployee,
    InvitationSender,
    InviteEmployee,
    ListEmployees,
    ListInvitations,
    RemoveEmployee,
    ResendInvitation,
    RevokeInvitation,
    UpdateEmployee,
    VerifyInvitation,
)


class AuthUseCaseProvider(Provider):
    scope = Scope.REQUEST

    password_attempts = provide(PasswordAttempts, scope=Scope.APP)
    authenticate = provide(AuthenticateAccessToken, scope=Scope.APP)
    use_cases = provide_all(
        SessionIssuer,
        RefreshTokens,
        Logout,
        RevokeEverySession,
        VerificationMailer,
        RegisterOrganization,
        VerifyEmail,
        ResendVerification,
        Login,
        ForgotPassword,
        CheckResetToken,
        ResetPassword,
        ChangePassword,
        CreateSuperuser,
        AuthenticateSuperuser,
        GetMe,
    )


class MailUseCaseProvider(Provider):
    """The transactional mail outbox: queue in the caller's transaction, deliver in a job."""

    scope = Scope.REQUEST

    use_cases = provide_all(QueueMail, DeliverMail, RequeueUnsentMail)


class OrganizationUseCaseProvider(Provider):
    scope = Scope.REQUEST

    use_cases = provide_all(
        GetOrganization,
        UpdateOrganization,
        GetBotConfig,
        UpdateBotConfig,
        GetCredentialStatus,
        RotateApiKey,
        AuthenticateApiKey,
        InvitationSender,
        InviteEmployee,
        ListInvitations,
        RevokeInvitation,
        ResendInvitation,
        VerifyInvitation,
        AcceptInvitation,
        ListEmployees,
        GetEmployee,
        UpdateEmployee,
        RemoveEmployee,
        ListOrganizations,
        CreateOrganization,
        AdministerOrganization,
    )
