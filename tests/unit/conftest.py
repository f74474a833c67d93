"""Unit tests resolve use cases from the production container with in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dishka import AsyncContainer

from tests.unit.container import memory_container, unit_settings
from tests.unit.world import Tenant, add_tenant


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[AsyncContainer]:
    built = memory_container(unit_settings(tmp_path))
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def acme(container: AsyncContainer) -> Tenant:
    """An active organization with an owner and a staff member."""
    return await add_tenant(container, "Acme")


@pytest.fixture
async def other(container: AsyncContainer) -> Tenant:
    """A second organization, for the tenant rule."""
    return await add_tenant(container, "Other")
