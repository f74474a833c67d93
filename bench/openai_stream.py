"""Client CPU per streamed chunk of a chat completion: the SDK's pydantic stream (what the adapter
did before) against the adapter's raw stream parsed with msgspec (what it does now).

Both read the same bytes from an in-process mock transport (no network, no server CPU): one SSE
event per transport chunk, shaped like OpenAI's (id, model, system_fingerprint, logprobs, ...), a
final usage chunk and ``[DONE]``. Runs interleave the two modes (A/B/A/B...) and report the median.

Run: `uv run python -m bench.openai_stream [--messages 300] [--tokens 60] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator

import httpx2
import openai

from kalamna.adapters.ai.openai_chat import OpenAIChatModel
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.domain.ai import ChatMessage, ChatUsage

MESSAGES = [
    ChatMessage("system", "Answer from the sources."),
    ChatMessage("user", "How long do refunds take?"),
]


def sse_body(tokens: int) -> list[bytes]:
    base = {
        "id": "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012",
        "object": "chat.completion.chunk",
        "created": 1760000000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_0123456789",
        "usage": None,
    }

    def event(delta: dict[str, object], finish: str | None) -> bytes:
        body = base | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    events = [event({"role": "assistant", "content": "", "refusal": None}, None)]
    events += [event({"content": f" word{n}"}, None) for n in range(tokens)]
    events.append(event({}, "stop"))
    usage = {"prompt_tokens": 120, "completion_tokens": tokens, "total_tokens": 120 + tokens}
    events.append(b"data: " + json.dumps(base | {"choices": [], "usage": usage}).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return events


class EventStream(httpx2.AsyncByteStream):
    def __init__(self, events: list[bytes]) -> None:
        self._events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self._events:
            yield event


def client(events: list[bytes]) -> openai.AsyncOpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=EventStream(events))

    return openai.AsyncOpenAI(
        api_key="sk-bench",
        base_url="http://llm.invalid/v1",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )


async def sdk_stream(sdk: openai.AsyncOpenAI) -> list[str]:
    """The adapter's loop before the change: one pydantic ChatCompletionChunk per event."""
    parts: list[str] = []
    chunks = await sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": m.role, "content": m.content} for m in MESSAGES],  # type: ignore[misc]
        temperature=0.2,
        max_tokens=200,
        stream=True,
        stream_options={"include_usage": True},
    )
    try:
        async for chunk in chunks:
            if chunk.usage is not None:
                ChatUsage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta is not None and choice.delta.content:
                    parts.append(choice.delta.content)
    finally:
        await chunks.close()
    return parts


async def adapter_stream(model: OpenAIChatModel) -> list[str]:
    return [
        item
        async for item in model.stream(MESSAGES, temperature=0.2, max_tokens=200)
        if isinstance(item, str)
    ]


async def run(messages: int, tokens: int, rounds: int) -> None:
    events = sse_body(tokens)
    sdk = client(events)
    model = OpenAIChatModel(model="gpt-4o-mini", tokens=TiktokenCounter(), api_key="sk-bench")
    model._client = client(events)  # same mock transport; the adapter's own pool is not used
    expected = [f" word{n}" for n in range(tokens)]
    assert await sdk_stream(sdk) == expected and await adapter_stream(model) == expected

    async def measure(mode: str) -> float:
        started = time.process_time()
        for _ in range(messages):
            await (sdk_stream(sdk) if mode == "sdk" else adapter_stream(model))
        return (time.process_time() - started) / (messages * len(events)) * 1e6

    results: dict[str, list[float]] = {"sdk": [], "raw": []}
    for _ in range(rounds):
        for mode in ("sdk", "raw"):
            results[mode].append(await measure(mode))
    print(f"{messages} messages x {len(events)} SSE events per round, {rounds} rounds interleaved; CPU time")
    print(f"{'mode':<44}{'µs/chunk (median)':>18}{'min':>8}{'max':>8}{'ms/message':>12}")
    labels = {
        "sdk": "SDK stream, pydantic chunk objects (before)",
        "raw": "raw stream + msgspec structs (after)",
    }
    for mode, values in results.items():
        median = statistics.median(values)
        print(
            f"{labels[mode]:<44}{median:>18.1f}{min(values):>8.1f}{max(values):>8.1f}"
            f"{median * len(events) / 1000:>12.2f}"
        )
    ratio = statistics.median(results["sdk"]) / statistics.median(results["raw"])
    print(
        f"per-chunk CPU ratio before/after: {ratio:.1f}x (includes the per-request cost of the SDK, amortised)"
    )
    await sdk.close()
    await model.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=60, help="text deltas per reply")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.tokens, args.rounds))


if __name__ == "__main__":
    main()
