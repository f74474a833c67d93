"""The OpenAI-compatible chat and embedding adapters against a fake server speaking the real wire
protocol (HTTP + SSE on 127.0.0.1): what goes over the wire, retries, and failure mapping."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from kalamna.adapters.ai.openai_chat import OpenAIChatModel
from kalamna.adapters.ai.openai_embedder import OpenAIEmbedder
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.application.chat.prompt import estimate_prompt_tokens
from kalamna.domain.ai import ChatMessage, ChatUsage
from kalamna.domain.errors import EmbedderUnavailable, LlmUnavailable
from tests.fakes.openai_server import DEFAULT_REPLY, FakeOpenAI

COMPLETIONS = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
MESSAGES = [
    ChatMessage("system", "You answer from the sources."),
    ChatMessage("user", "How long do refunds take?"),
]
COUNTER = TiktokenCounter()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.reset()
    server.reply = DEFAULT_REPLY
    server.report_usage = True
    yield server
    server.reset()


def chat_model(base_url: str, **options: object) -> OpenAIChatModel:
    settings: dict[str, object] = {"max_retries": 2, "stream_retry_delay_s": 0.01, "timeout_s": 10.0}
    settings.update(options)
    return OpenAIChatModel(
        model="fake-chat", tokens=COUNTER, base_url=base_url, api_key="sk-test", **settings
    )  # type: ignore[arg-type]


@pytest.fixture
async def model(fake: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    chat = chat_model(fake.base_url)
    yield chat
    await chat.aclose()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def collect(chat: OpenAIChatModel, messages: list[ChatMessage] = MESSAGES) -> list[str | ChatUsage]:
    return [item async for item in chat.stream(messages, temperature=0.2, max_tokens=100)]


# Chat completions ------------------------------------------------------------------------------


async def test_completion_returns_the_reply_and_the_servers_usage(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    result = await model.complete(MESSAGES, temperature=0.2, max_tokens=100)

    words = FakeOpenAI.pieces(DEFAULT_REPLY)
    assert result.text == DEFAULT_REPLY
    assert result.usage == ChatUsage(sum(len(m.content.split()) for m in MESSAGES), len(words))
    assert result.model == "fake-chat"
    [request] = fake.requests_to(COMPLETIONS)
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "fake-chat"
    assert request.body["messages"] == [{"role": m.role, "content": m.content} for m in MESSAGES]
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 100
    assert not request.body.get("stream")


async def test_max_completion_tokens_can_replace_max_tokens(fake: FakeOpenAI) -> None:
    chat = chat_model(fake.base_url, max_tokens_field="max_completion_tokens")
    try:
        await chat.complete(MESSAGES, temperature=0, max_tokens=3)
    finally:
        await chat.aclose()
    [request] = fake.requests_to(COMPLETIONS)
    assert request.body["max_completion_tokens"] == 3
    assert "max_tokens" not in request.body


async def test_completion_without_server_usage_is_counted_locally(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.report_usage = False
    result = await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert result.usage == ChatUsage(estimate_prompt_tokens(COUNTER, MESSAGES), COUNTER.count(DEFAULT_REPLY))
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0


async def test_stream_yields_deltas_that_make_the_reply_then_usage_last(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    items = await collect(model)

    *deltas, usage = items
    assert all(isinstance(delta, str) for delta in deltas)
    assert deltas == FakeOpenAI.pieces(DEFAULT_REPLY)  # one per server chunk, as they arrived
    assert "".join(deltas) == DEFAULT_REPLY  # type: ignore[arg-type]
    assert usage == ChatUsage(sum(len(m.content.split()) for m in MESSAGES), len(deltas))
    [request] = fake.requests_to(COMPLETIONS)
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


async def test_stream_without_server_usage_is_counted_locally(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.report_usage = False
    *deltas, usage = await collect(model)
    assert "".join(deltas) == DEFAULT_REPLY  # type: ignore[arg-type]
    assert usage == ChatUsage(estimate_prompt_tokens(COUNTER, MESSAGES), COUNTER.count(DEFAULT_REPLY))


async def test_rate_limits_are_retried_after_the_servers_delay(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.fail_next(429, times=2, retry_after_s=0.01)
    result = await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert result.text == DEFAULT_REPLY
    assert [r.outcome for r in fake.requests_to(COMPLETIONS)] == ["status 429", "status 429", "ok"]


async def test_a_server_error_is_retried(fake: FakeOpenAI, model: OpenAIChatModel) -> None:
    fake.fail_next(500)
    result = await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert result.text == DEFAULT_REPLY
    assert [r.outcome for r in fake.requests_to(COMPLETIONS)] == ["status 500", "ok"]


async def test_retries_are_bounded_then_llm_unavailable(fake: FakeOpenAI, model: OpenAIChatModel) -> None:
    fake.fail_next(503, times=5, retry_after_s=0.01)
    with pytest.raises(LlmUnavailable):
        await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert len(fake.requests_to(COMPLETIONS)) == 3  # the first try and max_retries=2


async def test_a_client_error_is_llm_unavailable_without_retry(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.fail_next(400)
    with pytest.raises(LlmUnavailable):
        await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert len(fake.requests_to(COMPLETIONS)) == 1


async def test_a_timeout_is_llm_unavailable(fake: FakeOpenAI) -> None:
    fake.delay_next(5, times=2)
    chat = chat_model(fake.base_url, timeout_s=0.2, max_retries=1)
    try:
        with pytest.raises(LlmUnavailable):
            await chat.complete(MESSAGES, temperature=0, max_tokens=100)
    finally:
        await chat.aclose()
    assert [r.outcome for r in fake.requests_to(COMPLETIONS)] == ["delayed 5s", "delayed 5s"]


async def test_a_stream_timeout_is_llm_unavailable(fake: FakeOpenAI) -> None:
    fake.delay_next(10, times=2)
    # 1.5 s: long enough that the retry reaches the fake server even when the machine is saturated
    # (with 0.2 s the client sometimes gave up before the busy server had read the second request).
    chat = chat_model(fake.base_url, timeout_s=1.5, max_retries=1)
    try:
        with pytest.raises(LlmUnavailable):
            await collect(chat)
    finally:
        await chat.aclose()
    # The retry was sent; under load the fake server may log it a moment after the client gave up.
    for _ in range(40):
        if len(fake.requests_to(COMPLETIONS)) >= 2:
            break
        await asyncio.sleep(0.05)
    assert len(fake.requests_to(COMPLETIONS)) == 2


async def test_a_refused_connection_is_llm_unavailable() -> None:
    chat = chat_model(closed_port_url(), max_retries=1)
    try:
        with pytest.raises(LlmUnavailable):
            await chat.complete(MESSAGES, temperature=0, max_tokens=100)
        with pytest.raises(LlmUnavailable):
            await collect(chat)
    finally:
        await chat.aclose()


async def test_a_stream_refused_at_first_is_retried_by_the_sdk(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.fail_next(502, retry_after_s=0.01)
    *deltas, _ = await collect(model)
    assert "".join(deltas) == DEFAULT_REPLY  # type: ignore[arg-type]
    assert [r.outcome for r in fake.requests_to(COMPLETIONS)] == ["status 502", "ok"]


async def test_a_stream_cut_before_its_first_delta_is_retried(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.drop_next(after_deltas=0)
    *deltas, usage = await collect(model)
    assert "".join(deltas) == DEFAULT_REPLY  # type: ignore[arg-type]
    assert isinstance(usage, ChatUsage)
    assert [r.outcome for r in fake.requests_to(COMPLETIONS)] == ["dropped after 0 deltas", "ok"]


async def test_a_stream_cut_before_its_first_delta_gives_up_after_the_retries(
    fake: FakeOpenAI, model: OpenAIChatModel
) -> None:
    fake.drop_next(after_deltas=0, times=3)
    with pytest.raises(LlmUnavailable):
        await collect(model)
    assert len(fake.requests_to(COMPLETIONS)) == 3


async def test_a_stream_cut_midway_is_not_restarted(fake: FakeOpenAI, model: OpenAIChatModel) -> None:
    fake.drop_next(after_deltas=2)
    received: list[str | ChatUsage] = []

    async def consume() -> None:
        async for item in model.stream(MESSAGES, temperature=0, max_tokens=100):
            received.append(item)

    with pytest.raises(LlmUnavailable):
        await consume()
    assert received == FakeOpenAI.pieces(DEFAULT_REPLY)[:2]  # what was said stays said, no usage, no repeat
    assert len(fake.requests_to(COMPLETIONS)) == 1


async def test_a_completion_cut_midway_is_retried(fake: FakeOpenAI, model: OpenAIChatModel) -> None:
    fake.drop_next()
    result = await model.complete(MESSAGES, temperature=0, max_tokens=100)
    assert result.text == DEFAULT_REPLY
    assert len(fake.requests_to(COMPLETIONS)) == 2


async def test_the_server_decides_the_reply(fake: FakeOpenAI, model: OpenAIChatModel) -> None:
    fake.reply = lambda body: "Echo: " + body["messages"][-1]["content"]
    *deltas, _ = await collect(model)
    assert "".join(deltas) == "Echo: How long do refunds take?"  # type: ignore[arg-type]


# Embeddings ------------------------------------------------------------------------------------


def embedder(base_url: str, **options: object) -> OpenAIEmbedder:
    settings: dict[str, object] = {"dimensions": 8, "max_retries": 1}
    settings.update(options)
    return OpenAIEmbedder(model="fake-embedding", base_url=base_url, api_key="sk-test", **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["float", "base64"])
async def test_embeddings_decode_to_the_servers_vectors(fake: FakeOpenAI, encoding: str) -> None:
    texts = ["Refunds take five days.", "يتم الاسترداد خلال خمسة أيام"]
    client = embedder(fake.base_url, encoding_format=encoding)
    try:
        vectors = await client.embed_passages(texts)
        query = await client.embed_query("How long do refunds take?")
    finally:
        await client.aclose()
    assert vectors == [FakeOpenAI.vector(text, 8) for text in texts]
    assert query == FakeOpenAI.vector("How long do refunds take?", 8)
    assert all(isinstance(value, float) for value in query)
    requests = fake.requests_to(EMBEDDINGS)
    assert [r.body["encoding_format"] for r in requests] == [encoding, encoding]
    assert requests[0].body["input"] == texts  # plain, no "passage: " prefix
    assert requests[1].body["input"] == ["How long do refunds take?"]  # plain, no "query: " prefix
    assert "dimensions" not in requests[0].body  # not a text-embedding-3 model


async def test_embeddings_are_batched_and_keep_their_order(fake: FakeOpenAI) -> None:
    texts = [f"passage number {n}" for n in range(150)]
    client = embedder(fake.base_url, batch_size=64)
    try:
        vectors = await client.embed_passages(texts)
    finally:
        await client.aclose()
    assert vectors == [FakeOpenAI.vector(text, 8) for text in texts]
    assert [len(r.body["input"]) for r in fake.requests_to(EMBEDDINGS)] == [64, 64, 22]


async def test_text_embedding_3_is_asked_for_the_configured_dimensions(fake: FakeOpenAI) -> None:
    client = OpenAIEmbedder(model="text-embedding-3-small", base_url=fake.base_url, dimensions=16)
    try:
        [vector] = await client.embed_passages(["hello"])
    finally:
        await client.aclose()
    assert client.dimensions == 16
    assert vector == FakeOpenAI.vector("hello", 16)
    assert fake.requests_to(EMBEDDINGS)[0].body["dimensions"] == 16


def test_known_models_need_no_dimensions_and_unknown_ones_do() -> None:
    assert OpenAIEmbedder(model="text-embedding-3-large").dimensions == 3072
    with pytest.raises(ValueError, match="EMBEDDING_DIMENSIONS"):
        OpenAIEmbedder(model="some-local-model")


async def test_embedding_retries_then_succeeds(fake: FakeOpenAI) -> None:
    fake.fail_next(429, retry_after_s=0.01)
    client = embedder(fake.base_url)
    try:
        assert await client.embed_query("hello") == FakeOpenAI.vector("hello", 8)
    finally:
        await client.aclose()
    assert [r.outcome for r in fake.requests_to(EMBEDDINGS)] == ["status 429", "ok"]


async def test_embedding_failures_are_embedder_unavailable(fake: FakeOpenAI) -> None:
    fake.fail_next(500, times=2, retry_after_s=0.01)
    client = embedder(fake.base_url)
    try:
        with pytest.raises(EmbedderUnavailable):
            await client.embed_passages(["hello"])
    finally:
        await client.aclose()
    assert len(fake.requests_to(EMBEDDINGS)) == 2


async def test_an_unreachable_embedder_is_embedder_unavailable() -> None:
    client = embedder(closed_port_url(), max_retries=0)
    try:
        with pytest.raises(EmbedderUnavailable):
            await client.embed_query("hello")
    finally:
        await client.aclose()


async def test_vectors_of_the_wrong_size_are_embedder_unavailable(fake: FakeOpenAI) -> None:
    fake.embedding_dimensions = 4  # the server ignores what we expect
    client = embedder(fake.base_url)
    try:
        with pytest.raises(EmbedderUnavailable):
            await client.embed_query("hello")
    finally:
        fake.embedding_dimensions = 8
        await client.aclose()


async def test_the_fake_lists_its_models(fake: FakeOpenAI) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)
    try:
        models = [m.id async for m in client.models.list()]
    finally:
        await client.close()
    assert models == ["fake-chat", "fake-embedding"]
