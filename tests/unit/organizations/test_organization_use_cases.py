"""The organization profile and the bot configuration: ``application/organizations.py`` resolved
from the production container with in-memory adapters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.organizations import (
    GetBotConfig,
    GetOrganization,
    UpdateBotConfig,
    UpdateOrganization,
)
from kalamna.domain.bot_config import DEFAULT_WELCOME, BotConfig
from kalamna.domain.errors import Forbidden, InvalidInput, NotFound
from kalamna.domain.identity import Organization
from kalamna.domain.ids import new_id
from tests.unit.world import Tenant, add_superuser, call


async def stored_organization(container: AsyncContainer, tenant: Tenant) -> Organization:
    return (await container.get(MemoryStore)).organizations[tenant.id]


async def stored_config(container: AsyncContainer, tenant: Tenant) -> BotConfig:
    return (await container.get(MemoryStore)).bot_configs[tenant.id]


# --- GetOrganization ------------------------------------------------------------------------------


async def test_owner_staff_and_superuser_read_the_organization(
    container: AsyncContainer, acme: Tenant
) -> None:
    root = await add_superuser(container)
    for who in (acme.as_owner, acme.as_staff, root):
        found = await call(container, GetOrganization, lambda uc, w=who: uc(w, acme.id))
        assert found == acme.organization


async def test_another_organization_is_not_found_even_for_its_owner_role(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(NotFound):
        await call(container, GetOrganization, lambda uc: uc(acme.as_owner, other.id))
    with pytest.raises(NotFound):
        await call(container, GetOrganization, lambda uc: uc(acme.as_staff, other.id))


async def test_an_unknown_organization_is_not_found_for_the_superuser(container: AsyncContainer) -> None:
    root = await add_superuser(container)
    with pytest.raises(NotFound):
        await call(container, GetOrganization, lambda uc: uc(root, new_id()))


# --- UpdateOrganization ---------------------------------------------------------------------------


async def test_the_owner_updates_the_profile_and_it_is_stored(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    clock.advance(timedelta(hours=1))
    changes: dict[str, str | None] = {
        "name": "  Acme Trading ",
        "website": "https://acme.test",
        "timezone": "Africa/Cairo",
        "default_language": "ar-EG",
        "industry": "Retail",
    }
    updated = await call(container, UpdateOrganization, lambda uc: uc(acme.as_owner, acme.id, changes))
    assert (updated.name, updated.website, updated.timezone, updated.default_language, updated.industry) == (
        "Acme Trading",
        "https://acme.test",
        "Africa/Cairo",
        "ar-EG",
        "Retail",
    )
    assert updated.updated_at == clock.now()
    assert updated.created_at == acme.organization.created_at
    assert await stored_organization(container, acme) == updated


async def test_omitted_fields_keep_their_value_and_blank_or_none_clears_them(
    container: AsyncContainer, acme: Tenant
) -> None:
    first: dict[str, str | None] = {"industry": "Retail", "country": "EG", "description": "Shoes"}
    await call(container, UpdateOrganization, lambda uc: uc(acme.as_owner, acme.id, first))
    second: dict[str, str | None] = {"industry": "  ", "country": None}
    updated = await call(container, UpdateOrganization, lambda uc: uc(acme.as_owner, acme.id, second))
    assert (updated.name, updated.industry, updated.country, updated.description) == (
        "Acme",
        None,
        None,
        "Shoes",
    )


async def test_staff_may_not_update_the_organization(container: AsyncContainer, acme: Tenant) -> None:
    with pytest.raises(Forbidden):
        await call(container, UpdateOrganization, lambda uc: uc(acme.as_staff, acme.id, {"name": "Mine"}))
    assert (await stored_organization(container, acme)).name == "Acme"


async def test_an_owner_cannot_update_another_organization(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(NotFound):
        await call(container, UpdateOrganization, lambda uc: uc(acme.as_owner, other.id, {"name": "Taken"}))
    assert (await stored_organization(container, other)).name == "Other"


@pytest.mark.parametrize(
    ("changes", "keys"),
    [
        ({"name": "   "}, ["name"]),
        ({"name": None}, ["name"]),
        ({"website": "ftp://acme.test"}, ["website"]),
        ({"timezone": "Mars/Olympus"}, ["timezone"]),
        ({"website": "acme", "default_language": "not a tag"}, ["website", "default_language"]),
    ],
)
async def test_an_invalid_profile_names_its_fields_and_changes_nothing(
    container: AsyncContainer, acme: Tenant, changes: dict[str, str | None], keys: list[str]
) -> None:
    before = await stored_organization(container, acme)
    with pytest.raises(InvalidInput) as raised:
        await call(
            container,
            UpdateOrganization,
            lambda uc: uc(acme.as_owner, acme.id, {"industry": "Retail", **changes}),
        )
    assert raised.value.extra is not None
    assert [field["key"] for field in raised.value.extra["fields"]] == keys
    assert await stored_organization(container, acme) == before


async def test_an_unknown_profile_field_is_refused(container: AsyncContainer, acme: Tenant) -> None:
    with pytest.raises(InvalidInput, match="Unknown fields: status"):
        await call(container, UpdateOrganization, lambda uc: uc(acme.as_owner, acme.id, {"status": "active"}))


# --- GetBotConfig / UpdateBotConfig ---------------------------------------------------------------


async def test_owner_and_staff_read_the_default_bot_config(container: AsyncContainer, acme: Tenant) -> None:
    for who in (acme.as_owner, acme.as_staff):
        config = await call(container, GetBotConfig, lambda uc, w=who: uc(w, acme.id))
        assert (config.organization_id, config.welcome_message, config.top_k, config.widget.position) == (
            acme.id,
            DEFAULT_WELCOME,
            5,
            "right",
        )


async def test_the_bot_config_of_another_organization_is_not_found(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(NotFound):
        await call(container, GetBotConfig, lambda uc: uc(acme.as_staff, other.id))
    with pytest.raises(NotFound):
        await call(container, UpdateBotConfig, lambda uc: uc(acme.as_owner, other.id, {"top_k": 3}))
    assert (await stored_config(container, other)).top_k == 5


async def test_an_organization_without_a_config_is_not_found(container: AsyncContainer, acme: Tenant) -> None:
    store = await container.get(MemoryStore)
    del store.bot_configs[acme.id]
    store.commit()
    with pytest.raises(NotFound):
        await call(container, GetBotConfig, lambda uc: uc(acme.as_owner, acme.id))
    with pytest.raises(NotFound):
        await call(container, UpdateBotConfig, lambda uc: uc(acme.as_owner, acme.id, {"top_k": 3}))


async def test_the_owner_updates_the_config_and_nested_settings_keep_what_is_not_given(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    clock.advance(timedelta(minutes=5))
    changes: dict[str, Any] = {
        "bot_name": "Sara",
        "top_k": 8,
        "widget": {"primary_color": "#112233"},
        "handover": {"messages": {"ar": "لحظة من فضلك"}},
        "fallback_messages": {"en": "Sorry."},
    }
    updated = await call(container, UpdateBotConfig, lambda uc: uc(acme.as_owner, acme.id, changes))
    assert (updated.bot_name, updated.top_k, updated.updated_at) == ("Sara", 8, clock.now())
    assert (updated.widget.primary_color, updated.widget.position) == ("#112233", "right")
    assert updated.handover.messages == {"ar": "لحظة من فضلك"}
    assert updated.handover.enabled is True
    assert updated.fallback_for("EN") == "Sorry."
    assert await stored_config(container, acme) == updated


async def test_staff_may_read_but_not_change_the_config(container: AsyncContainer, acme: Tenant) -> None:
    with pytest.raises(Forbidden):
        await call(container, UpdateBotConfig, lambda uc: uc(acme.as_staff, acme.id, {"bot_name": "Mine"}))
    assert (await stored_config(container, acme)).bot_name == "Assistant"


@pytest.mark.parametrize(
    ("changes", "keys"),
    [
        ({"temperature": 2.5}, ["temperature"]),
        ({"top_k": 0, "min_score": 1.5}, ["top_k", "min_score"]),
        (
            {"widget": {"primary_color": "red", "position": "top"}},
            ["widget.primary_color", "widget.position"],
        ),
        ({"handover": {"after_fallbacks": 21}}, ["handover.after_fallbacks"]),
        ({"fallback_messages": {"EN!": "x"}}, ["fallback_messages.EN!"]),
        ({"bot_name": "  "}, ["bot_name"]),
    ],
)
async def test_out_of_range_settings_name_their_fields_and_change_nothing(
    container: AsyncContainer, acme: Tenant, changes: dict[str, Any], keys: list[str]
) -> None:
    before = await stored_config(container, acme)
    with pytest.raises(InvalidInput) as raised:
        await call(
            container, UpdateBotConfig, lambda uc: uc(acme.as_owner, acme.id, {"tone": "formal", **changes})
        )
    assert raised.value.extra is not None
    assert [field["key"] for field in raised.value.extra["fields"]] == keys
    assert await stored_config(container, acme) == before


async def test_unknown_config_fields_are_refused_at_any_level(
    container: AsyncContainer, acme: Tenant
) -> None:
    with pytest.raises(InvalidInput, match="Unknown fields: colour, model"):
        await call(
            container,
            UpdateBotConfig,
            lambda uc: uc(acme.as_owner, acme.id, {"model": "gpt", "widget": {"colour": "#000000"}}),
        )
