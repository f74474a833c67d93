"""The bare-Litestar floor app itself (see ``bench/floor_app.py``, which imports this lazily)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from uuid import uuid4

import msgspec
from litestar import Litestar, Request, get, post
from litestar.response import Response, Stream

from kalamna.adapters.ai.openai_chat import OpenAIChatModel
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.domain.ai import ChatMessage, ChatUsage

SYSTEM = "You are a support assistant.\n" + " ".join(
    ["The warranty covers repairs for two years in most countries."] * 180
)  # about the size of the prompt Kalamna sends (~2,000 context tokens)


def _sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


def create_floor_app() -> Litestar:
    model = OpenAIChatModel(
        model="fake-chat", tokens=TiktokenCounter(), base_url=os.environ["BENCH_FLOOR_LLM_URL"], max_retries=0
    )

    @get("/api/v1/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @post("/api/v1/chat/sessions", status_code=201, sync_to_thread=False)
    def start_session() -> dict[str, str]:
        return {"session_id": str(uuid4()), "session_token": "floor"}

    @post("/api/v1/chat/sessions/{session_id:str}/messages", status_code=200)
    async def send(request: Request[object, object, object], session_id: str) -> Response[object]:
        question = msgspec.json.decode(await request.body())["content"]
        messages = [ChatMessage("system", SYSTEM), ChatMessage("user", question)]

        async def events() -> AsyncIterator[bytes]:
            async for item in model.stream(messages, temperature=0.2, max_tokens=512):
                if isinstance(item, ChatUsage):
                    yield _sse("done", {"reply": {"id": str(uuid4()), "usage": [item.prompt_tokens]}})
                else:
                    yield _sse("delta", {"text": item})

        return Stream(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})  # type: ignore[return-value]

    async def close_model() -> None:
        await model.aclose()

    return Litestar([health, start_session, send], on_shutdown=[close_model], openapi_config=None)
