"""`kalamna dev` seeds the demo organization once and keeps its key across restarts."""

from __future__ import annotations

import json

import pytest

from kalamna.application.chat.sessions import WidgetAccess
from kalamna.di import make_container
from kalamna.domain.errors import NotAuthenticated
from kalamna.web.demo import DEMO, ensure_demo


async def test_demo_is_seeded_once_and_its_key_kept(settings, clean_state) -> None:  # type: ignore[no-untyped-def]
    first = await ensure_demo(settings)
    assert first.owner_password is not None
    assert first.api_key.startswith("klm_")
    stored = json.loads((settings.data_dir / "demo.json").read_text())
    assert stored["api_key"] == first.api_key
    assert (settings.data_dir / "demo.json").stat().st_mode & 0o777 == 0o600

    again = await ensure_demo(settings)
    assert (again.api_key, again.owner_password) == (first.api_key, None)

    container = make_container(settings)
    try:
        async with container() as scope:
            organization, config = await (await scope.get(WidgetAccess))(first.api_key)
        assert organization.name == DEMO.organization_name
        assert organization.status.value == "active"
        assert config.bot_name == "Nour"
        assert config.suggested_questions == DEMO.suggested_questions
    finally:
        await container.close()

    # A lost demo.json re-keys the existing organization; the password is not printed again.
    (settings.data_dir / "demo.json").unlink()
    rekeyed = await ensure_demo(settings)
    assert rekeyed.owner_password is None
    assert rekeyed.api_key != first.api_key
    container = make_container(settings)
    try:
        async with container() as scope:
            access = await scope.get(WidgetAccess)
            await access(rekeyed.api_key)
            with pytest.raises(NotAuthenticated):
                await access(first.api_key)
    finally:
        await container.close()
