from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.after_commit import AfterCommit
from kalamna.domain.errors import Conflict, EmailTaken


class SqlaUnitOfWork:
    """Commits the request's session; unique-constraint races become the contract's 409s."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._after_commit = AfterCommit()

    async def commit(self) -> None:
        try:
            await self._session.commit()
        except IntegrityError as exc:
            await self.rollback()
            if "uq_employees_email" in str(exc.orig):
                raise EmailTaken() from exc
            raise Conflict("The change conflicts with another one; try again.") from exc
        await self._after_commit.run()

    async def rollback(self) -> None:
        self._after_commit.drop()
        await self._session.rollback()

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.add(action)
