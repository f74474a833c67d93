"""The signed-in employee and its organization (``GET /auth/me``)."""

from __future__ import annotations

from kalamna.application.auth.principal import Principal
from kalamna.domain.errors import TokenRevoked
from kalamna.domain.identity import Employee, Organization
from kalamna.ports.repositories import EmployeeRepository, OrganizationRepository


class GetMe:
    def __init__(self, employees: EmployeeRepository, organizations: OrganizationRepository) -> None:
        self._employees = employees
        self._organizations = organizations

    async def __call__(self, principal: Principal) -> tuple[Employee, Organization | None]:
        employee = await self._employees.get(principal.employee_id)
        if employee is None:
            raise TokenRevoked()
        organization = (
            await self._organizations.get(employee.organization_id) if employee.organization_id else None
        )
        return employee, organization
