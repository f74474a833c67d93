"""Answering with an OpenAI-compatible model (a local fake speaking the real wire protocol):
the model's "not in the context" signal, an unreachable model, and a client that goes away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from kalamna.web.app import create_app
from tests.api.conftest import shared_container
from tests.api.helpers import live_account
from tests.api.test_chat import SHIPPING, add_entry, api_key, start_session, widget
from tests.conftest import make_test_settings
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(reply="Express delivery arrives the next day for 25 dirhams.") as server:
        yield server


def llm_settings(services: Any, tmp_path: Path, base_url: str, **overrides: Any) -> Any:
    return make_test_settings(
        services,
        tmp_path / "data",
        llm_provider="openai",
        embedding_provider="offline",
        openai_base_url=base_url,
        llm_timeout_s=2.0,
        llm_max_retries=1,
        **overrides,
    )


async def shop_with(client: AsyncTestClient, settings: Any) -> tuple[str, dict[str, Any]]:
    owner = await live_account(client, settings, "owner@llm.test", "LLM Shop")
    await add_entry(client, owner, "Delivery", SHIPPING)
    key = await api_key(client, owner)
    return key, await start_session(client, key)


@pytest.fixture
async def llm_client(
    services, clean_state, tmp_path: Path, fake_llm: FakeOpenAI
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    settings = llm_settings(services, tmp_path, fake_llm.base_url)
    app = create_app(settings, shared_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as client:
        client.app.state.test_settings = settings
        yield client


async def test_model_answer_is_stored_with_usage(llm_client: AsyncTestClient, fake_llm: FakeOpenAI) -> None:
    key, session = await shop_with(llm_client, llm_client.app.state.test_settings)
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    response = await llm_client.post(
        url, json={"content": "How fast is express shipping?"}, headers=widget(key, session)
    )
    assert response.status_code == 201, response.text
    assert response.json()["reply"]["content"] == "Express delivery arrives the next day for 25 dirhams."
    sent = fake_llm.requests_to("/v1/chat/completions")[-1].body
    prompt = "\n".join(m["content"] for m in sent["messages"])
    assert "<context>" in prompt and "Express delivery arrives the next day" in prompt
    assert "<customer_message>" in prompt


async def test_model_saying_not_in_context_yields_the_fallback(
    llm_client: AsyncTestClient, fake_llm: FakeOpenAI
) -> None:
    key, session = await shop_with(llm_client, llm_client.app.state.test_settings)
    fake_llm.reply = "[[NO_ANSWER]]"
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    response = await llm_client.post(
        url, json={"content": "Is express delivery available on Fridays?"}, headers=widget(key, session)
    )
    assert response.status_code == 201
    assert "[[NO_ANSWER]]" not in response.json()["reply"]["content"]
    assert response.json()["reply"]["sources"] == []
    streamed = await llm_client.post(
        url,
        json={"content": "Is express delivery available on Fridays?"},
        headers={**widget(key, session), "Accept": "text/event-stream"},
    )
    assert "NO_ANSWER" not in streamed.text


async def test_unreachable_model_gives_503_and_keeps_the_question(
    services, clean_state, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = llm_settings(services, tmp_path, "http://127.0.0.1:9/v1")
    app = create_app(settings, shared_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as client:
        key, session = await shop_with(client, settings)
        url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
        response = await client.post(
            url, json={"content": "How fast is express shipping?"}, headers=widget(key, session)
        )
        assert response.status_code == 503
        assert response.json()["code"] == "llm_unavailable"
        streamed = await client.post(
            url,
            json={"content": "How much does express delivery cost?"},
            headers={**widget(key, session), "Accept": "text/event-stream"},
        )
        assert streamed.status_code == 503
        history = (await client.get(url, headers=widget(key, session))).json()["items"]
        assert [(m["role"], m["content"]) for m in history] == [
            ("user", "How fast is express shipping?"),
            ("user", "How much does express delivery cost?"),
        ]


async def test_unreachable_model_with_fallback_configured(services, clean_state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = llm_settings(services, tmp_path, "http://127.0.0.1:9/v1", llm_fallback_on_error=True)
    app = create_app(settings, shared_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as client:
        key, session = await shop_with(client, settings)
        url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
        response = await client.post(
            url, json={"content": "How fast is express shipping?"}, headers=widget(key, session)
        )
        assert response.status_code == 201
        owner_config = (await client.get("/api/v1/chat/config", headers={"X-API-Key": key})).json()
        assert response.json()["reply"]["content"]
        assert owner_config["bot_name"]


async def test_client_disconnect_mid_stream_still_stores_the_whole_reply(
    services, clean_state, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    reply = (
        "Express delivery arrives the next day and costs twenty five dirhams in every Gulf country we serve."
    )
    with FakeOpenAI(reply=reply, token_delay_s=0.05) as slow:
        settings = llm_settings(services, tmp_path, slow.base_url)
        app = create_app(settings, shared_container(settings), run_worker=True)
        async with AsyncTestClient(app, timeout=60) as client:
            key, session = await shop_with(client, settings)
            url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
            async with client.stream(
                "POST",
                url,
                json={"content": "How fast is express shipping?"},
                headers={**widget(key, session), "Accept": "text/event-stream"},
            ) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_text():
                    if "event: delta" in chunk:
                        break  # the customer closes the tab after the first words
            for _ in range(100):
                history = (await client.get(url, headers=widget(key, session))).json()["items"]
                if len(history) == 2:
                    break
                await asyncio.sleep(0.1)
            assert [m["role"] for m in history] == ["user", "assistant"]
            assert history[1]["content"] == reply
