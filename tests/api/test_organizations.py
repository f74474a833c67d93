"""Section 4: organization profile, bot config, API credentials (and GET /chat/config with the key)."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.api.helpers import World

pytestmark = pytest.mark.usefixtures("clean_state")


async def test_update_keeps_omitted_fields_and_validates(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}"
    first = await client.put(
        url,
        json={
            "name": "Org A",
            "website": "https://a.example",
            "timezone": "Africa/Cairo",
            "default_language": "ar-EG",
        },
        headers=world.owner.auth,
    )
    assert first.status_code == 200, first.text
    second = await client.put(
        url, json={"name": "Org A Renamed", "industry": "Retail"}, headers=world.owner.auth
    )
    body = second.json()
    assert (body["name"], body["industry"], body["website"], body["timezone"]) == (
        "Org A Renamed",
        "Retail",
        "https://a.example",
        "Africa/Cairo",
    )
    for bad in (
        {"name": "A", "website": "javascript:alert(1)"},
        {"name": "A", "timezone": "Mars/Olympus"},
        {"name": "A", "default_language": "english!"},
        {"name": ""},
        {"name": "A", "status": "active"},
        {"name": "A", "organization_id": world.other_owner.organization_id},
    ):
        response = await client.put(url, json=bad, headers=world.owner.auth)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["code"] == "validation_error"


async def test_bot_config_defaults_partial_update_and_ranges(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}/config"
    defaults = (await client.get(url, headers=world.staff.auth)).json()
    assert defaults["temperature"] == 0.2
    assert defaults["top_k"] == 5
    assert defaults["widget"]["allowed_origins"] == []
    assert defaults["welcome_message"]
    assert defaults["fallback_message"]
    updated = await client.put(
        url,
        json={"bot_name": "Noor", "widget": {"allowed_origins": ["https://shop.example"]}, "language": "ar"},
        headers=world.owner.auth,
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["bot_name"] == "Noor"
    assert body["widget"]["allowed_origins"] == ["https://shop.example"]
    assert body["widget"]["primary_color"] == defaults["widget"]["primary_color"]
    assert body["temperature"] == 0.2
    for bad in (
        {"temperature": 2.5},
        {"top_k": 0},
        {"top_k": 21},
        {"min_score": 1.5},
        {"max_answer_tokens": 8},
        {"max_answer_tokens": 5000},
        {"widget": {"primary_color": "red"}},
        {"widget": {"position": "top"}},
        {"unknown": 1},
        {"temperature": "hot"},
    ):
        response = await client.put(url, json=bad, headers=world.owner.auth)
        assert response.status_code == 422, (bad, response.text)
    assert (await client.get(url, headers=world.owner.auth)).json()["bot_name"] == "Noor"


async def test_api_key_lifecycle(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}/credentials"
    status = (await client.get(url, headers=world.owner.auth)).json()
    assert status == {"has_key": False, "prefix": None, "created_at": None, "last_used_at": None}
    assert_401 = (await client.get("/api/v1/chat/config")).status_code
    assert assert_401 == 401

    created = await client.post(url, headers=world.owner.auth)
    assert created.status_code == 201
    key = created.json()["api_key"]
    assert key.startswith("klm_")
    assert len(key) >= 4 + 43  # 32 random bytes, base64url
    assert created.json()["prefix"] == key[:12]

    status = (await client.get(url, headers=world.owner.auth)).json()
    assert status["has_key"] is True
    assert status["prefix"] == key[:12]
    assert key not in str(status)

    config = await client.get("/api/v1/chat/config", headers={"X-API-Key": key})
    assert config.status_code == 200
    assert set(config.json()) == {"bot_name", "welcome_message", "suggested_questions", "widget"}
    assert (await client.get(url, headers=world.owner.auth)).json()["last_used_at"] is not None

    rotated = (await client.post(url, headers=world.owner.auth)).json()["api_key"]
    assert rotated != key
    old = await client.get("/api/v1/chat/config", headers={"X-API-Key": key})
    assert old.status_code == 401
    assert old.json()["code"] == "not_authenticated"
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": rotated})).status_code == 200
    for bad in ("klm_wrong", "nonsense", rotated + "x"):
        assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": bad})).status_code == 401


async def test_widget_key_reads_only_its_own_organization(client: AsyncTestClient, world: World) -> None:
    key_a = (await client.post(f"/api/v1/orgs/{world.org}/credentials", headers=world.owner.auth)).json()[
        "api_key"
    ]
    await client.put(f"/api/v1/orgs/{world.org}/config", json={"bot_name": "Bot A"}, headers=world.owner.auth)
    b = world.other_owner
    key_b = (await client.post(f"/api/v1/orgs/{b.organization_id}/credentials", headers=b.auth)).json()[
        "api_key"
    ]
    await client.put(f"/api/v1/orgs/{b.organization_id}/config", json={"bot_name": "Bot B"}, headers=b.auth)
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key_a})).json()[
        "bot_name"
    ] == "Bot A"
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key_b})).json()[
        "bot_name"
    ] == "Bot B"
    # An API key is not a bearer token.
    assert (
        await client.get(f"/api/v1/orgs/{world.org}", headers={"Authorization": f"Bearer {key_a}"})
    ).status_code == 401


async def test_last_used_is_written_at_most_once_a_minute(
    client: AsyncTestClient, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    key = (await client.post(f"/api/v1/orgs/{world.org}/credentials", headers=world.owner.auth)).json()[
        "api_key"
    ]
    engine = create_async_engine(settings.database_url)
    try:

        async def last_used():  # type: ignore[no-untyped-def]
            async with engine.connect() as conn:
                return (
                    await conn.execute(
                        text("SELECT last_used_at FROM api_credentials WHERE revoked_at IS NULL")
                    )
                ).scalar()

        await client.get("/api/v1/chat/config", headers={"X-API-Key": key})
        first = await last_used()
        assert first is not None
        for _ in range(5):
            await client.get("/api/v1/chat/config", headers={"X-API-Key": key})
        assert await last_used() == first
    finally:
        await engine.dispose()
