"""The policy check every tenant use case starts with."""

from __future__ import annotations

from uuid import UUID

from kalamna.application.auth.principal import Principal
from kalamna.domain.policy import Action, authorize


def require(principal: Principal, organization_id: UUID | None, action: Action) -> None:
    authorize(principal.role, principal.organization_id, organization_id, action)
