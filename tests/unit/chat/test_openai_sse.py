"""The SSE splitting and msgspec chunk decoding of the OpenAI-compatible chat adapter."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2
import msgspec
import openai
import pytest

from kalamna.adapters.ai.openai_chat import OpenAIChatModel, StreamChunk, StreamUsage, parse_sse
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.domain.ai import ChatMessage, ChatUsage
from kalamna.domain.errors import LlmUnavailable


def test_events_split_across_reads_are_reassembled() -> None:
    buffer = bytearray()
    assert parse_sse(buffer, b'data: {"a"') == []
    assert parse_sse(buffer, b":1}\n") == []
    assert parse_sse(buffer, b"\ndata: [DO") == [b'{"a":1}']
    assert parse_sse(buffer, b"NE]\n\n") == [b"[DONE]"]
    assert buffer == bytearray()


def test_crlf_comments_other_fields_and_multi_line_data() -> None:
    buffer = bytearray()
    data = b': keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata: {"x":\r\ndata: 2}\r\n\r\ndata:{}\n\n'
    assert parse_sse(buffer, data) == [b'{"x":\n2}', b"{}"]
    assert buffer == bytearray()


def test_several_events_in_one_read_keep_their_order_and_the_tail_waits() -> None:
    buffer = bytearray()
    assert parse_sse(buffer, b"data: 1\n\ndata: 2\n\ndata: 3") == [b"1", b"2"]
    assert parse_sse(buffer, b"\n\n") == [b"3"]


def test_chunks_decode_only_the_fields_used() -> None:
    decode = msgspec.json.Decoder(StreamChunk).decode
    chunk = decode(
        b'{"id":"c1","object":"chat.completion.chunk","model":"m","system_fingerprint":"fp",'
        b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,'
        b'"finish_reason":null}],"usage":null}'
    )
    assert [(c.index, c.delta.content if c.delta else None, c.finish_reason) for c in chunk.choices] == [
        (0, "Hi", None)
    ]
    assert chunk.usage is None and chunk.error is None
    final = decode(b'{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}')
    assert final.usage == StreamUsage(12, 3)
    failed = decode(b'{"error":{"message":"overloaded","type":"server_error"}}')
    assert failed.error == {"message": "overloaded", "type": "server_error"}


def test_a_malformed_event_is_a_value_error() -> None:
    decode = msgspec.json.Decoder(StreamChunk).decode
    with pytest.raises(ValueError):  # the adapter treats it as a failed stream
        decode(b'{"choices": "nope"}')
    with pytest.raises(ValueError):
        decode(b"{not json")


# The adapter over an in-process transport that plays scripted SSE bodies --------------------------


def _event(body: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _delta(text: str) -> bytes:
    return _event({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


ERROR = _event({"error": {"message": "overloaded", "type": "server_error"}})
END = [
    _event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    _event({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}}),
    b"data: [DONE]\n\n",
]


class _Body(httpx2.AsyncByteStream):
    def __init__(self, events: list[bytes]) -> None:
        self._events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self._events:
            yield event


def scripted_model(*bodies: list[bytes]) -> tuple[OpenAIChatModel, list[int]]:
    served: list[int] = []
    queue = list(bodies)

    def handler(request: httpx2.Request) -> httpx2.Response:
        served.append(len(served))
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_Body(queue.pop(0)))

    model = OpenAIChatModel(
        model="m", tokens=TiktokenCounter(), api_key="sk-test", stream_retry_delay_s=0.001
    )
    model._client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="http://llm.invalid/v1",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    return model, served


async def test_an_error_event_before_the_first_delta_is_retried() -> None:
    model, served = scripted_model([ERROR], [_delta("Hi"), _delta(" there"), *END])
    items = [item async for item in model.stream([ChatMessage("user", "q")], temperature=0, max_tokens=9)]
    assert items == ["Hi", " there", ChatUsage(4, 2)]
    assert served == [0, 1]


async def test_an_error_event_mid_stream_is_llm_unavailable() -> None:
    model, served = scripted_model([_delta("Hi"), ERROR, *END])
    received: list[object] = []

    async def consume() -> None:
        async for item in model.stream([ChatMessage("user", "q")], temperature=0, max_tokens=9):
            received.append(item)

    with pytest.raises(LlmUnavailable):
        await consume()
    assert received == ["Hi"]
    assert served == [0]


async def test_events_after_done_are_ignored() -> None:
    model, _ = scripted_model([_delta("Hi"), *END, _delta(" late")])
    items = [item async for item in model.stream([ChatMessage("user", "q")], temperature=0, max_tokens=9)]
    assert items == ["Hi", ChatUsage(4, 2)]
