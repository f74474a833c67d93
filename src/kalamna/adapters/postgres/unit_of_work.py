from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.domain.errors import Conflict, EmailTaken


class SqlaUnitOfWork:
    """Commits the request's session; unique-constraint races become the contract's 409s."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def commit(self) -> None:
        try:
            await self._session.commit()
        except IntegrityError as exc:
            await self._session.rollback()
            if "uq_employees_email" in str(exc.orig):
                raise EmailTaken() from exc
            raise Conflict("The change conflicts with another one; try again.") from exc

    async def rollback(self) -> None:
        await self._session.rollback()
