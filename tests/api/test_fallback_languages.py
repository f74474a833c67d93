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


ARABIC_HANDOVER = "سأحولك الآن إلى أحد موظفينا، يرجى البقاء هنا."


async def test_the_handover_notice_follows_the_customers_language(
    live_client: AsyncTestClient,
    shop: dict[str, Any],  # noqa: F811 (fixture)
) -> None:
    org = shop["owner"].organization_id
    url = f"/api/v1/orgs/{org}/config"
    updated = await live_client.put(
        url, json={"handover": {"messages": {"ar": ARABIC_HANDOVER}}}, headers=shop["owner"].auth
    )
    assert updated.status_code == 200, updated.text
    handover = (await live_client.get(url, headers=shop["owner"].auth)).json()["handover"]
    assert handover["messages"] == {"ar": ARABIC_HANDOVER}
    default = handover["message"]
    assert default != ARABIC_HANDOVER and handover["enabled"] is True  # other fields kept

    async def ask(content: str) -> str:
        session = await start_session(live_client, shop["key"])
        response = await live_client.post(
            f"/api/v1/chat/sessions/{session['session_id']}/messages",
            json={"content": content},
            headers=widget(shop["key"], session),
        )
        assert response.status_code == 201, response.text
        assert response.json()["mode"] == "waiting"
        return str(response.json()["reply"]["content"])

    assert await ask("أريد التحدث مع موظف") == ARABIC_HANDOVER
    assert await ask("Can I talk to a human, please?") == default

    # The /handover call: the widget's locale chooses the language of the notice.
    session = await start_session(live_client, shop["key"], visitor={"locale": "ar-EG"})
    called = await live_client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/handover",
        json={},
        headers=widget(shop["key"], session),
    )
    assert called.status_code == 200, called.text
    history = await live_client.get(
        f"/api/v1/chat/sessions/{session['session_id']}/messages", headers=widget(shop["key"], session)
    )
    assert [m["content"] for m in history.json()["items"] if m["role"] == "system"] == [ARABIC_HANDOVER]


async def test_handover_messages_are_validated(
    live_client: AsyncTestClient,
    shop: dict[str, Any],  # noqa: F811 (fixture)
) -> None:
    url = f"/api/v1/orgs/{shop['owner'].organization_id}/config"
    for bad in ({"Arabic!": "x"}, {"ar": "   "}, {"ar": "x" * 1001}):
        response = await live_client.put(
            url, json={"handover": {"messages": bad}}, headers=shop["owner"].auth
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["code"] == "validation_error"
