from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import EmployeeRow, OrganizationRow
from kalamna.domain.errors import EmailTaken
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.pages import Page, PageRequest

_ORG_FIELDS = ("name", "industry", "website", "description", "country", "timezone", "default_language")


def organization_from_row(row: OrganizationRow) -> Organization:
    return Organization(
        id=row.id,
        status=OrganizationStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in _ORG_FIELDS},
    )


def employee_from_row(row: EmployeeRow) -> Employee:
    return Employee(
        id=row.id,
        organization_id=row.organization_id,
        email=row.email,
        full_name=row.full_name,
        role=Role(row.role),
        status=EmployeeStatus(row.status),
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_login_at=row.last_login_at,
        email_verified_at=row.email_verified_at,
    )


class SqlaOrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, organization: Organization) -> None:
        row = OrganizationRow(id=organization.id, created_at=organization.created_at)
        self._copy(organization, row)
        self._session.add(row)
        await self._session.flush()

    async def get(self, organization_id: UUID) -> Organization | None:
        row = await self._session.get(OrganizationRow, organization_id, populate_existing=True)
        return organization_from_row(row) if row else None

    async def search(
        self, *, status: OrganizationStatus | None, query: str | None, page: PageRequest
    ) -> Page[Organization]:
        where = []
        if status is not None:
            where.append(OrganizationRow.status == status.value)
        if query:
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(OrganizationRow.name.ilike(f"%{escaped}%", escape="\\"))
        total = await self._session.scalar(select(func.count()).select_from(OrganizationRow).where(*where))
        rows = await self._session.scalars(
            select(OrganizationRow)
            .where(*where)
            .order_by(OrganizationRow.created_at.desc(), OrganizationRow.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([organization_from_row(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def save(self, organization: Organization) -> None:
        row = await self._session.get(OrganizationRow, organization.id)
        if row is None:
            raise LookupError(organization.id)
        self._copy(organization, row)
        await self._session.flush()

    @staticmethod
    def _copy(organization: Organization, row: OrganizationRow) -> None:
        for name in _ORG_FIELDS:
            setattr(row, name, getattr(organization, name))
        row.status = organization.status.value
        row.updated_at = organization.updated_at


class SqlaEmployeeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, employee: Employee) -> None:
        row = EmployeeRow(
            id=employee.id, created_at=employee.created_at, organization_id=employee.organization_id
        )
        self._copy(employee, row)
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            await self._session.rollback()
            if "uq_employees_email" in str(exc.orig):
                raise EmailTaken() from exc
            raise

    async def get(self, employee_id: UUID) -> Employee | None:
        row = await self._session.get(EmployeeRow, employee_id, populate_existing=True)
        return employee_from_row(row) if row else None

    async def get_in_organization(self, organization_id: UUID, employee_id: UUID) -> Employee | None:
        row = await self._session.scalar(
            select(EmployeeRow).where(
                EmployeeRow.organization_id == organization_id, EmployeeRow.id == employee_id
            )
        )
        return employee_from_row(row) if row else None

    async def get_by_email(self, email: str) -> Employee | None:
        row = await self._session.scalar(select(EmployeeRow).where(EmployeeRow.email == email))
        return employee_from_row(row) if row else None

    async def save(self, employee: Employee) -> None:
        row = await self._session.get(EmployeeRow, employee.id)
        if row is None:
            raise LookupError(employee.id)
        self._copy(employee, row)
        await self._session.flush()

    async def search(
        self,
        organization_id: UUID,
        *,
        role: Role | None,
        status: EmployeeStatus | None,
        page: PageRequest,
    ) -> Page[Employee]:
        where = [EmployeeRow.organization_id == organization_id]
        if role is not None:
            where.append(EmployeeRow.role == role.value)
        if status is not None:
            where.append(EmployeeRow.status == status.value)
        total = await self._session.scalar(select(func.count()).select_from(EmployeeRow).where(*where))
        rows = await self._session.scalars(
            select(EmployeeRow)
            .where(*where)
            .order_by(EmployeeRow.created_at, EmployeeRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([employee_from_row(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def count_active_owners(self, organization_id: UUID, *, lock: bool = False) -> int:
        query = select(EmployeeRow.id).where(
            EmployeeRow.organization_id == organization_id,
            EmployeeRow.role == Role.OWNER.value,
            EmployeeRow.status == EmployeeStatus.ACTIVE.value,
        )
        if lock:
            query = query.with_for_update()
        return len((await self._session.scalars(query)).all())

    async def delete(self, organization_id: UUID, employee_id: UUID) -> None:
        await self._session.execute(
            sa_delete(EmployeeRow).where(
                EmployeeRow.organization_id == organization_id, EmployeeRow.id == employee_id
            )
        )

    async def list_by_organization(self, organization_id: UUID) -> Sequence[Employee]:
        rows = await self._session.scalars(
            select(EmployeeRow)
            .where(EmployeeRow.organization_id == organization_id)
            .order_by(EmployeeRow.created_at)
        )
        return [employee_from_row(row) for row in rows]

    @staticmethod
    def _copy(employee: Employee, row: EmployeeRow) -> None:
        row.email = employee.email
        row.full_name = employee.full_name
        row.role = employee.role.value
        row.status = employee.status.value
        row.password_hash = employee.password_hash
        row.updated_at = employee.updated_at
        row.last_login_at = employee.last_login_at
        row.email_verified_at = employee.email_verified_at
