"""Fallback messages per language: the bot answers a question it cannot answer with the fallback in
the customer's language when the configuration has one (JSON and SSE alike), else the default."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.api.test_chat import parse_sse, shop, start_session, widget  # noqa: F401 (fixture)

ARABIC_FALLBACK = "عذراً، لم أجد إجابة لسؤالك. اترك رقمك وسنتواصل معك."


async def test_the_fallback_follows_the_customers_language(
    live_client: AsyncTestClient,
    shop: dict[str, Any],  # noqa: F811
) -> None:
    org = shop["owner"].organization_id
    url = f"/api/v1/orgs/{org}/config"
    updated = await live_client.put(
        url,
        json={"fallback_messages": {"ar": ARABIC_FALLBACK}, "handover": {"after_fallbacks": 0}},
        headers=shop["owner"].auth,
    )
    assert updated.status_code == 200, updated.text
    config = (await live_client.get(url, headers=shop["owner"].auth)).json()
    assert config["fallback_messages"] == {"ar": ARABIC_FALLBACK}
    default = config["fallback_message"]

    session = await start_session(live_client, shop["key"])
    messages = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    arabic = await live_client.post(
        messages, json={"content": "من رسم لوحة الموناليزا؟"}, headers=widget(shop["key"], session)
    )
    assert arabic.status_code == 201
    assert arabic.json()["reply"]["content"] == ARABIC_FALLBACK
    english = await live_client.post(
        messages, json={"content": "Who painted the Mona Lisa?"}, headers=widget(shop["key"], session)
    )
    assert english.json()["reply"]["content"] == default

    streamed = await live_client.post(
        messages,
        json={"content": "ما هو سعر تذكرة الطيران إلى باريس؟"},
        headers={**widget(shop["key"], session), "Accept": "text/event-stream"},
    )
    events = parse_sse(streamed.text)
    assert "".join(data["text"] for name, data in events if name == "delta") == ARABIC_FALLBACK
    assert next(data for name, data in events if name == "done")["reply"]["content"] == ARABIC_FALLBACK


async def test_fallback_messages_are_validated(
    live_client: AsyncTestClient,
    shop: dict[str, Any],  # noqa: F811
) -> None:
    url = f"/api/v1/orgs/{shop['owner'].organization_id}/config"
    for bad in ({"Arabic!": "x"}, {"ar": "   "}, {"ar": 5}):
        response = await live_client.put(url, json={"fallback_messages": bad}, headers=shop["owner"].auth)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["code"] == "validation_error"
    config = (await live_client.get(url, headers=shop["owner"].auth)).json()
    assert config["fallback_messages"] == {}
