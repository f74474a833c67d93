"""Unit tests resolve use cases from the production container with in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dishka import AsyncContainer

from tests.unit.container import memory_container, unit_settings


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[AsyncContainer]:
    built = memory_container(unit_settings(tmp_path))
    try:
        yield built
    finally:
        await built.close()
