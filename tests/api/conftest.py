from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dishka.integrations.litestar import LitestarProvider
from litestar.testing import AsyncTestClient

from kalamna.di import make_container
from kalamna.web.app import create_app


@pytest.fixture
async def client(settings, clean_state) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, make_container(settings, LitestarProvider()))
    async with AsyncTestClient(app) as test_client:
        yield test_client
