"""Section 7 of the contract: the chat widget (API key, then session token)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, Response, get, post
from litestar.params import Body, FromPath
from litestar.response import Stream

from kalamna.application.chat.answering import (
    AnswerPlan,
    PrepareAnswer,
    ProducedReply,
    ProduceReply,
    SaveReply,
)
from kalamna.application.chat.sessions import (
    CloseSession,
    FindSession,
    LeaveFeedback,
    ListMessages,
    StartSession,
    WidgetAccess,
)
from kalamna.config import Settings
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession
from kalamna.domain.errors import DomainError, Forbidden, NotAuthenticated
from kalamna.domain.identity import Organization
from kalamna.ports.security import RateLimiter
from kalamna.web.cors import STATE_KEY
from kalamna.web.errors import DOMAIN_STATUS, ApiError
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, WidgetOut
from kalamna.web.security import consume, settings_limit
from kalamna.web.widget_limits import widget_budget

log = logging.getLogger("kalamna.chat")
_running: set[asyncio.Task[None]] = set()  # replies outlive their request (client disconnects)

Short = Annotated[str, msgspec.Meta(max_length=200)]


class VisitorIn(msgspec.Struct, forbid_unknown_fields=True):
    id: Short | None = None
    name: Short | None = None
    email: Short | None = None
    locale: Annotated[str, msgspec.Meta(max_length=35)] | None = None


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    visitor: VisitorIn | None = None
    metadata: (
        Annotated[dict[Short, Annotated[str, msgspec.Meta(max_length=2000)]], msgspec.Meta(max_length=20)]
        | None
    ) = None


class SessionOut(msgspec.Struct):
    session_id: UUID
    session_token: str
    status: str
    bot_name: str
    welcome_message: str
    created_at: datetime


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class SourceOut(msgspec.Struct):
    entry_id: UUID
    title: str
    score: float


class MessageOut(msgspec.Struct):
    id: UUID
    session_id: UUID
    role: str
    content: str
    sources: list[SourceOut]
    created_at: datetime

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(
            message.id,
            message.session_id,
            message.role.value,
            message.content,
            [SourceOut(s.entry_id, s.title, s.score) for s in message.sources],
            message.created_at,
        )


class ExchangeOut(msgspec.Struct):
    message: MessageOut
    reply: MessageOut


class ClosedOut(msgspec.Struct):
    session_id: UUID
    status: Literal["open", "closed"]


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    rating: int
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    message_id: UUID | None = None


class FeedbackOut(msgspec.Struct):
    id: UUID
    rating: int
    comment: str | None
    message_id: UUID | None
    created_at: datetime


class WidgetConfigOut(msgspec.Struct):
    bot_name: str
    welcome_message: str
    suggested_questions: list[str]
    widget: WidgetOut


def api_key(request: Request[Any, Any, Any]) -> str:
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        raise NotAuthenticated("Send the organization's API key as X-API-Key.")
    return key


def check_origin(request: Request[Any, Any, Any], config: BotConfig, *, write: bool) -> None:
    """Record whether this browser origin may read the answer; refuse writes from other origins."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser cross-origin call (server to server, curl, the tests)
    allowed = config.widget.allowed_origins
    if not allowed or origin in allowed:
        request.scope.setdefault("state", {})[STATE_KEY] = origin
    elif write:
        raise Forbidden("This website is not allowed to use this chat widget.")


async def widget_context(
    request: Request[Any, Any, Any],
    access: WidgetAccess,
    limiter: RateLimiter,
    settings: Settings,
    *,
    write: bool,
) -> tuple[Organization, BotConfig, dict[str, str]]:
    organization, config = await access(api_key(request))
    check_origin(request, config, write=write)
    headers = await widget_budget(request, limiter, settings, organization.id)
    return organization, config, headers


def _sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


class ReplyRun:
    """Produces and saves one reply in a task of its own; the request only listens to it."""

    def __init__(self, container: AsyncContainer, produce: ProduceReply, plan: AnswerPlan) -> None:
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._container = container
        self._produce = produce
        self._plan = plan
        task = asyncio.create_task(self._run(), name=f"reply-{plan.question.id}")
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def _run(self) -> None:
        try:
            async for item in self._produce(self._plan):
                if isinstance(item, ProducedReply):
                    async with self._container() as scope:
                        saved = await (await scope.get(SaveReply))(self._plan, item)
                    await self.events.put(("done", saved))
                else:
                    await self.events.put(("delta", item))
        except DomainError as exc:
            await self.events.put(("error", exc))
        except Exception as exc:
            log.exception("reply failed", extra={"message_id": str(self._plan.question.id)})
            await self.events.put(("error", exc))

    async def result(self) -> ChatMessage:
        while True:
            kind, value = await self.events.get()
            if kind == "done":
                return value  # type: ignore[no-any-return]
            if kind == "error":
                raise value


def _error_body(exc: BaseException) -> dict[str, object]:
    if isinstance(exc, DomainError):
        status = DOMAIN_STATUS.get(exc.code, 500)
        return {"status_code": status, "code": exc.code, "detail": exc.detail}
    return {"status_code": 500, "code": "internal_error", "detail": "An internal error occurred."}


class WidgetController(Controller):
    path = "/chat"
    tags = ["chat"]

    @get("/config", summary="Public widget settings")
    @inject
    async def config(
        self,
        request: Request[Any, Any, Any],
        access: FromDishka[WidgetAccess],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
    ) -> Response[WidgetConfigOut]:
        _, config, headers = await widget_context(request, access, limiter, settings, write=False)
        body = WidgetConfigOut(
            bot_name=config.bot_name,
            welcome_message=config.welcome_message,
            suggested_questions=list(config.suggested_questions),
            widget=WidgetOut(
                config.widget.primary_color, config.widget.position, list(config.widget.allowed_origins)
            ),
        )
        return Response(body, headers=headers)

    @post("/sessions", status_code=201, summary="Start a conversation")
    @inject
    async def start(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SessionIn, Body()],
        access: FromDishka[WidgetAccess],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
        start: FromDishka[StartSession],
    ) -> Response[SessionOut]:
        organization, config, headers = await widget_context(request, access, limiter, settings, write=True)
        visitor = {k: v for k, v in msgspec.structs.asdict(data.visitor).items() if v} if data.visitor else {}
        started = await start(organization, config, visitor, dict(data.metadata or {}))
        body = SessionOut(
            session_id=started.session.id,
            session_token=started.token,
            status=started.session.status.value,
            bot_name=config.bot_name,
            welcome_message=config.welcome_message,
            created_at=started.session.created_at,
        )
        return Response(body, status_code=201, headers=headers)

    async def _session(
        self,
        request: Request[Any, Any, Any],
        session_id: UUID,
        access: WidgetAccess,
        limiter: RateLimiter,
        settings: Settings,
        find: FindSession,
        *,
        write: bool,
    ) -> tuple[ChatSession, BotConfig, dict[str, str]]:
        organization, config, headers = await widget_context(request, access, limiter, settings, write=write)
        session = await find(organization.id, session_id, request.headers.get("x-session-token", "").strip())
        return session, config, headers

    @post("/sessions/{session_id:uuid}/messages", status_code=201, summary="Send a message; get the reply")
    @inject
    async def send_message(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        data: Annotated[MessageIn, Body()],
        access: FromDishka[WidgetAccess],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        prepare: FromDishka[PrepareAnswer],
        produce: FromDishka[ProduceReply],
    ) -> Response[Any]:
        session, config, headers = await self._session(
            request, session_id, access, limiter, settings, find, write=True
        )
        headers |= await consume(
            limiter, f"widget-session:{session.id}", settings_limit(settings, "widget_session_messages")
        )
        plan = await prepare(session, config, data.content)
        run = ReplyRun(request.app.state.dishka_container, produce, plan)
        if "text/event-stream" in request.headers.get("accept", ""):
            first = await run.events.get()
            if first[0] == "error":
                body = _error_body(first[1])
                raise ApiError(
                    int(str(body["status_code"])), str(body["code"]), str(body["detail"]), headers=headers
                )
            return Stream(
                self._events(first, run, plan),
                media_type="text/event-stream",
                status_code=200,
                headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        reply = await run.result()
        return Response(
            ExchangeOut(MessageOut.of(plan.question), MessageOut.of(reply)), status_code=201, headers=headers
        )

    @staticmethod
    async def _events(first: tuple[str, Any], run: ReplyRun, plan: AnswerPlan) -> AsyncIterator[bytes]:
        kind, value = first
        while True:
            if kind == "delta":
                yield _sse("delta", {"text": value})
            elif kind == "done":
                yield _sse("done", ExchangeOut(MessageOut.of(plan.question), MessageOut.of(value)))
                return
            else:
                yield _sse("error", _error_body(value))
                return
            kind, value = await run.events.get()

    @get("/sessions/{session_id:uuid}/messages", summary="The conversation, oldest first")
    @inject
    async def history(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        list_messages: FromDishka[ListMessages],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Response[ListOut[MessageOut]]:
        session, _, headers = await self._session(
            request, session_id, access, limiter, settings, find, write=False
        )
        page = await list_messages(session, page_of(limit, offset))
        body = ListOut([MessageOut.of(m) for m in page.items], page.total, page.limit, page.offset)
        return Response(body, headers=headers)

    @post("/sessions/{session_id:uuid}/close", status_code=200, summary="Close the conversation")
    @inject
    async def close(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        limiter: FromDishka[RateLimiter],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        close: FromDishka[CloseSession],
    ) -> Response[ClosedOut]:
        session, _, headers = await self._session(
            request, session_id, access, limiter, settings, find, write=True
        )
        closed = await close(session)
        return Response(
            ClosedOut(closed.id, "closed" if closed.status.value == "closed" else "open"), headers=headers
        )

    @post("/sessions/{session_id:uuid}/feedback", status_code=201, summary="Rate the conversation or a reply")
    @inject
    async def feedback(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        data: Annotated[FeedbackIn, Body()],
        find: FromDishka[FindSession],
        leave: FromDishka[LeaveFeedback],
        access: FromDishka[WidgetAccess],
    ) -> FeedbackOut:
        token = request.headers.get("x-session-token", "").strip()
        if request.headers.get("x-api-key"):
            organization, config = await access(api_key(request))
            check_origin(request, config, write=True)
            session = await find(organization.id, session_id, token)
        else:
            session = await find.by_token(session_id, token)
        saved = await leave(session, data.rating, data.comment, data.message_id)
        return FeedbackOut(saved.id, saved.rating, saved.comment, saved.message_id, saved.created_at)
