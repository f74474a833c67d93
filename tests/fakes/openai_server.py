"""A fake OpenAI-compatible server on 127.0.0.1, speaking the real wire protocol.

Endpoints: ``POST /v1/chat/completions`` (plain JSON, or SSE with ``stream: true``: ``data: {json}``
``chat.completion.chunk`` events, a usage chunk when ``stream_options.include_usage`` is set, then
``data: [DONE]``), ``POST /v1/embeddings`` (``float`` or ``base64``; vectors derived from a hash of
the input, see :meth:`FakeOpenAI.vector`), ``GET /v1/models``.

It runs uvicorn + Starlette in a background thread on an OS-assigned port::

    with FakeOpenAI(reply="Refunds take 5 days.") as server:
        model = OpenAIChatModel(base_url=server.base_url, model="fake-chat", tokens=counter)
        server.fail_next(429, times=2, retry_after_s=0.01)   # scripted failures, consumed in order
        ...
        assert len(server.requests_to("/v1/chat/completions")) == 3

Scripts (each consumed by one request, in order): :meth:`fail_next` (an HTTP error status, with
``Retry-After`` if asked), :meth:`delay_next` (sleep, then answer normally: provokes client
timeouts), :meth:`drop_next` (send the headers and ``after_deltas`` text chunks, then cut the
connection). ``latency_s`` delays every response and ``token_delay_s`` every streamed token (for
benchmarks). Token counts are whitespace-separated words: prompt = the words of all messages,
completion = the reply's pieces.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_REPLY = "Hello! This is the fake model. It answers in several words."

Reply = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    outcome: str  # "ok", "status 429", "delayed 2.0s", "dropped after 1 deltas"


@dataclass(frozen=True)
class _Script:
    kind: Literal["status", "delay", "drop"]
    status: int = 500
    retry_after_s: float | None = None
    seconds: float = 0.0
    after_deltas: int = 0


class _Dropped(Exception):
    """Raised inside a response body to make uvicorn cut the connection."""


@dataclass
class FakeOpenAI:
    reply: Reply = DEFAULT_REPLY
    chat_model: str = "fake-chat"
    embedding_model: str = "fake-embedding"
    embedding_dimensions: int = 8
    latency_s: float = 0.0
    token_delay_s: float = 0.0
    report_usage: bool = True  # False: like servers that never send usage
    host: str = "127.0.0.1"
    _requests: list[ReceivedRequest] = field(default_factory=list, init=False, repr=False)
    _scripts: deque[_Script] = field(default_factory=deque, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _port: int = field(default=0, init=False, repr=False)

    # Lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            log_level="critical",
            log_config=None,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-openai", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """The ``/v1`` base URL to give an OpenAI client."""
        return f"http://{self.host}:{self._port}/v1"

    # Scripting and inspection ------------------------------------------------------------------

    def fail_next(self, status: int = 500, *, times: int = 1, retry_after_s: float | None = None) -> None:
        """The next ``times`` requests answer ``status`` with an OpenAI-style error body."""
        self._push(_Script("status", status=status, retry_after_s=retry_after_s), times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` requests wait ``seconds`` before answering normally."""
        self._push(_Script("delay", seconds=seconds), times)

    def drop_next(self, *, after_deltas: int = 0, times: int = 1) -> None:
        """The next ``times`` requests get ``200`` headers (and, when streamed, the role chunk and
        ``after_deltas`` text chunks), then the connection is cut."""
        self._push(_Script("drop", after_deltas=after_deltas), times)

    def _push(self, script: _Script, times: int) -> None:
        with self._lock:
            self._scripts.extend([script] * times)

    def _pop(self) -> _Script | None:
        with self._lock:
            return self._scripts.popleft() if self._scripts else None

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.path == path]

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._scripts.clear()

    # Deterministic outputs ---------------------------------------------------------------------

    @staticmethod
    def vector(text: str, dimensions: int) -> list[float]:
        """The embedding the server returns for ``text``: unit length, exactly representable in
        float32 (so ``float`` and ``base64`` answers carry the same numbers)."""
        raw = hashlib.shake_256(text.encode("utf-8")).digest(4 * dimensions)
        values = [(value / 2**32) * 2 - 1 for value in struct.unpack(f"<{dimensions}I", raw)]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
        return list(struct.unpack(f"<{dimensions}f", packed))

    @staticmethod
    def pieces(text: str) -> list[str]:
        """How a reply is cut into streamed deltas (words with their trailing spaces)."""
        return re.findall(r"\S+\s*|\s+", text)

    @staticmethod
    def count_words(body: dict[str, Any]) -> int:
        return sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))

    def reply_for(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply

    # The application ---------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    async def _sleep(self, seconds: float) -> None:
        """Sleep in slices so that stopping the server never waits for a long scripted delay."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._server is None or self._server.should_exit:
                return
            await asyncio.sleep(min(left, 0.05))

    async def _receive(self, request: Request) -> tuple[Any, _Script | None, Response | None]:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        script = self._pop()
        outcome = "ok"
        early: Response | None = None
        if script is not None and script.kind == "status":
            outcome = f"status {script.status}"
            early = _error(script.status, script.retry_after_s)
        elif script is not None and script.kind == "delay":
            outcome = f"delayed {script.seconds}s"
        elif script is not None:
            outcome = f"dropped after {script.after_deltas} deltas"
        with self._lock:
            self._requests.append(
                ReceivedRequest(request.method, request.url.path, dict(request.headers), body, outcome)
            )
        if early is None and not isinstance(body, dict) and request.method == "POST":
            early = _error(400, None, "We could not parse the JSON body of your request.")
        if early is None:
            await self._sleep(self.latency_s + (script.seconds if script and script.kind == "delay" else 0))
        return body, script, early

    async def _models(self, request: Request) -> Response:
        _, _, early = await self._receive(request)
        if early is not None:
            return early
        models = [self.chat_model, self.embedding_model]
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "kalamna-tests"} for m in models]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> Response:
        body, script, early = await self._receive(request)
        if early is not None:
            return early
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error(400, None, "'messages' must be a non-empty array.")
        pieces = self.pieces(self.reply_for(body))
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish_reason = "stop"
        if isinstance(limit, int) and len(pieces) > limit:
            pieces, finish_reason = pieces[:limit], "length"
        model = str(body.get("model") or self.chat_model)
        usage = {
            "prompt_tokens": self.count_words(body),
            "completion_tokens": len(pieces),
            "total_tokens": self.count_words(body) + len(pieces),
        }
        completion_id = f"chatcmpl-fake{len(self.requests)}"
        created = int(time.time())
        drop_after = script.after_deltas if script is not None and script.kind == "drop" else None

        if not body.get("stream"):
            if drop_after is not None:
                return StreamingResponse(_truncated_json(), media_type="application/json")
            await self._sleep(self.token_delay_s * len(pieces))
            message = {"role": "assistant", "content": "".join(pieces), "refusal": None}
            answer: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if self.report_usage:
                answer["usage"] = usage
            return JSONResponse(answer)

        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and self.report_usage

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            event = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if include_usage:
                event["usage"] = None
            return _sse(event)

        async def events() -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": "", "refusal": None}, None)
            for sent, piece in enumerate(pieces):
                if drop_after is not None and sent >= drop_after:
                    raise _Dropped
                if self.token_delay_s:
                    await self._sleep(self.token_delay_s)
                yield chunk({"content": piece}, None)
            if drop_after is not None:
                raise _Dropped
            yield chunk({}, finish_reason)
            if include_usage:
                final = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": usage,
                }
                yield _sse(final)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    async def _embeddings(self, request: Request) -> Response:
        body, script, early = await self._receive(request)
        if early is not None:
            return early
        raw_input = body.get("input")
        inputs = [raw_input] if isinstance(raw_input, str) else raw_input
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
            return _error(400, None, "'input' must be a non-empty string or array of non-empty strings.")
        if script is not None and script.kind == "drop":
            return StreamingResponse(_truncated_json(), media_type="application/json")
        dimensions = body.get("dimensions") or self.embedding_dimensions
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64") or not isinstance(dimensions, int) or dimensions < 1:
            return _error(400, None, "Invalid 'encoding_format' or 'dimensions'.")
        data = []
        for index, text in enumerate(inputs):
            vector = self.vector(text, dimensions)
            embedding: list[float] | str = vector
            if encoding == "base64":
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(text.split()) for text in inputs)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model") or self.embedding_model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n\n"


async def _truncated_json() -> AsyncIterator[bytes]:
    yield b'{"id": "cut-'
    raise _Dropped


_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_exceeded"}


def _error(status: int, retry_after_s: float | None, message: str | None = None) -> JSONResponse:
    headers: dict[str, str] = {}
    if retry_after_s is not None:
        headers["retry-after"] = str(max(1, math.ceil(retry_after_s)))
        headers["retry-after-ms"] = str(round(retry_after_s * 1000))
    text = message or ("Rate limit reached." if status == 429 else f"Scripted failure {status}.")
    body = {
        "error": {
            "message": text,
            "type": _ERROR_TYPES.get(status, "server_error"),
            "param": None,
            "code": None,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)
