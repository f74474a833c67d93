"""Auth use cases from the container with in-memory adapters (real argon2, cheap parameters, and JWT)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.mail import MemoryMailOutbox
from kalamna.adapters.memory.security import FixedClock, MemoryRevocationStore
from kalamna.application.auth.login import Login
from kalamna.application.auth.passwords import ChangePassword, ForgotPassword, ResetPassword
from kalamna.application.auth.principal import AuthenticateAccessToken
from kalamna.application.auth.registration import RegisterOrganization
from kalamna.application.auth.sessions import RefreshTokens
from kalamna.application.auth.verification import ResendVerification, VerifyEmail
from kalamna.ports.security import PasswordHasher


@dataclass
class Kit:
    store: MemoryStore
    jobs: MemoryJobQueue
    outbox: MemoryMailOutbox
    clock: FixedClock
    revocations: MemoryRevocationStore
    hasher: PasswordHasher
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
async def kit(container: AsyncContainer) -> AsyncIterator[Kit]:
    """The use cases of one request scope of the in-memory container (as production wires them)."""
    async with container() as scope:
        yield Kit(
            store=await container.get(MemoryStore),
            jobs=await container.get(MemoryJobQueue),
            outbox=await container.get(MemoryMailOutbox),
            clock=await container.get(FixedClock),
            revocations=await container.get(MemoryRevocationStore),
            hasher=await container.get(PasswordHasher),
            register=await scope.get(RegisterOrganization),
            verify=await scope.get(VerifyEmail),
            resend=await scope.get(ResendVerification),
            login=await scope.get(Login),
            refresh=await scope.get(RefreshTokens),
            forgot=await scope.get(ForgotPassword),
            reset=await scope.get(ResetPassword),
            change=await scope.get(ChangePassword),
            authenticate=await scope.get(AuthenticateAccessToken),
        )
