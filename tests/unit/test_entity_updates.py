"""Organization profile and bot configuration changes, applied by the entities themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from kalamna.domain.bot_config import BotConfig, BotConfigUpdate, HandoverUpdate, WidgetUpdate
from kalamna.domain.errors import InvalidInput
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.organization_profile import ProfileUpdate

BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def organization() -> Organization:
    return Organization(
        uuid4(),
        "Acme",
        OrganizationStatus.ACTIVE,
        BEFORE,
        BEFORE,
        industry="retail",
        website="https://a.example",
    )


def test_a_profile_change_sets_given_fields_trims_text_and_keeps_the_rest() -> None:
    org = organization()
    org.change_profile(ProfileUpdate(name="  Acme Ltd ", industry="  ", timezone="Africa/Cairo"))
    assert (org.name, org.industry, org.website, org.timezone) == (
        "Acme Ltd",
        None,
        "https://a.example",
        "Africa/Cairo",
    )


def test_an_invalid_profile_change_changes_nothing() -> None:
    org = organization()
    with pytest.raises(InvalidInput) as raised:
        org.change_profile(ProfileUpdate(industry="food", website="ftp://x", timezone="Mars/Olympus"))
    assert [f["key"] for f in raised.value.extra["fields"]] == ["website", "timezone"]
    assert (org.industry, org.website, org.timezone) == ("retail", "https://a.example", None)
    with pytest.raises(InvalidInput, match="needs a name"):
        org.change_profile(ProfileUpdate(name=" "))
    assert org.name == "Acme"


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"^Unknown fields: colour, status\.$"):
        ProfileUpdate.of({"status": "active", "colour": "red"})
    with pytest.raises(InvalidInput, match=r"^Unknown fields: colour, volume\.$"):
        BotConfigUpdate.of({"widget": {"colour": "#000000"}, "handover": {"volume": "1"}})


def test_a_bot_config_update_is_a_validated_copy() -> None:
    config = BotConfig(organization_id=uuid4(), updated_at=BEFORE)
    update = BotConfigUpdate.of(
        {"bot_name": "Nour", "widget": {"position": "left"}, "handover": {"enabled": False}}
    )
    assert update == BotConfigUpdate(
        bot_name="Nour", widget=WidgetUpdate(position="left"), handover=HandoverUpdate(enabled=False)
    )
    updated = config.updated(update, NOW)
    assert (updated.bot_name, updated.widget.position, updated.handover.enabled, updated.updated_at) == (
        "Nour",
        "left",
        False,
        NOW,
    )
    assert (updated.widget.primary_color, updated.handover.after_fallbacks) == ("#0F766E", 2)
    assert (config.bot_name, config.widget.position, config.updated_at) == ("Assistant", "right", BEFORE)
    with pytest.raises(InvalidInput, match="out of range"):
        config.updated(BotConfigUpdate(top_k=0), NOW)
