"""Use cases wired to in-memory adapters (and the real argon2/JWT adapters, with cheap parameters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from kalamna.adapters.memory.identity import (
    MemoryBotConfigRepository,
    MemoryEmployeeRepository,
    MemoryOneTimeTokenRepository,
    MemoryOrganizationRepository,
    MemoryRefreshSessionRepository,
    MemoryStore,
)
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.security import FixedClock, MemoryRevocationStore
from kalamna.adapters.memory.store import MemoryUnitOfWork
from kalamna.adapters.security.jwt_tokens import JwtAccessTokenIssuer, JwtKey
from kalamna.adapters.security.passwords import Argon2Parameters, Argon2PasswordHasher
from kalamna.adapters.security.secrets import RandomSecretTokens
from kalamna.application.auth.emails import Links
from kalamna.application.auth.login import Login
from kalamna.application.auth.passwords import ChangePassword, ForgotPassword, ResetPassword, ResetPolicy
from kalamna.application.auth.principal import AuthenticateAccessToken
from kalamna.application.auth.registration import RegisterOrganization, VerificationMailer, VerificationPolicy
from kalamna.application.auth.sessions import RefreshTokens, RevokeEverySession, SessionIssuer, SessionPolicy
from kalamna.application.auth.verification import ResendVerification, VerifyEmail


@dataclass
class Kit:
    store: MemoryStore
    jobs: MemoryJobQueue
    clock: FixedClock
    revocations: MemoryRevocationStore
    hasher: Argon2PasswordHasher
    register: RegisterOrganization
    verify: VerifyEmail
    resend: ResendVerification
    login: Login
    refresh: RefreshTokens
    forgot: ForgotPassword
    reset: ResetPassword
    change: ChangePassword
    authenticate: AuthenticateAccessToken


@pytest.fixture
def kit() -> Kit:
    store = MemoryStore()
    jobs = MemoryJobQueue()
    clock = FixedClock()
    revocations = MemoryRevocationStore()
    # The OWASP floor the adapter enforces at start-up is a settings rule; unit tests may go cheaper.
    hasher = Argon2PasswordHasher(Argon2Parameters(memory_kib=1024, time_cost=1, parallelism=1))
    secrets = RandomSecretTokens()
    uow = MemoryUnitOfWork(store)
    orgs = MemoryOrganizationRepository(store)
    employees = MemoryEmployeeRepository(store)
    tokens = MemoryOneTimeTokenRepository(store)
    sessions = MemoryRefreshSessionRepository(store)
    links = Links(public_url="https://api.example", dashboard_url="https://app.example")
    issuer = JwtAccessTokenIssuer(
        current=JwtKey("k1", "HS256", "s" * 48, "s" * 48), issuer="kalamna", audience="kalamna-api"
    )
    session_issuer = SessionIssuer(issuer, secrets, sessions, clock, SessionPolicy())
    revoke_all = RevokeEverySession(sessions, revocations, clock)
    verification = VerificationMailer(
        tokens, secrets, jobs, links, clock, VerificationPolicy(timedelta(hours=48))
    )
    return Kit(
        store=store,
        jobs=jobs,
        clock=clock,
        revocations=revocations,
        hasher=hasher,
        register=RegisterOrganization(
            orgs, employees, MemoryBotConfigRepository(store), hasher, verification, uow, clock
        ),
        verify=VerifyEmail(tokens, secrets, employees, orgs, uow, clock),
        resend=ResendVerification(employees, orgs, verification, uow),
        login=Login(employees, orgs, hasher, session_issuer, uow, clock),
        refresh=RefreshTokens(secrets, sessions, employees, orgs, session_issuer, uow, clock),
        forgot=ForgotPassword(employees, tokens, secrets, jobs, links, uow, clock, ResetPolicy()),
        reset=ResetPassword(tokens, secrets, employees, hasher, revoke_all, uow, clock),
        change=ChangePassword(employees, hasher, revoke_all, session_issuer, uow, clock),
        authenticate=AuthenticateAccessToken(issuer, revocations),
    )
