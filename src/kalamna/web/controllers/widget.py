"""Section 7 of the contract: the chat widget (API key, then session token)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, Response, get, post
from litestar.params import Body, FromPath
from litestar.response import Stream

from kalamna.application.chat.sessions import (
    FindSession,
    LeaveFeedback,
    ListMessages,
    StartSession,
    WidgetAccess,
)
from kalamna.application.conversations.replies import MessageOutcome, RepliesInFlight, ReplyRun, SendMessage
from kalamna.application.conversations.staff import CustomerCloses, RequestHandover
from kalamna.config import Settings
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, ReplyOutcome
from kalamna.domain.errors import DomainError, Forbidden, NotAuthenticated
from kalamna.domain.identity import Organization
from kalamna.ports.conversations import CUSTOMER, ConversationEvents
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import RateLimiter
from kalamna.web.cors import STATE_KEY
from kalamna.web.errors import DOMAIN_STATUS, ApiError
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, SourceOut, WidgetOut, schema_name
from kalamna.web.security import consume, rate_headers, settings_limit
from kalamna.web.sse import SSE_HEADERS, event_stream, sse
from kalamna.web.widget_limits import widget_budgets

log = logging.getLogger("kalamna.chat")

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
    mode: str
    bot_name: str
    welcome_message: str
    created_at: datetime


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class ChatMessageOut(msgspec.Struct):
    id: UUID
    session_id: UUID
    role: str
    content: str
    sources: list[SourceOut]
    author_name: str | None
    interrupted: bool  # the server stopped while this reply was produced: it is incomplete
    created_at: datetime

    @classmethod
    def of(cls, message: ChatMessage) -> ChatMessageOut:
        return cls(
            message.id,
            message.session_id,
            message.role.value,
            message.content,
            [SourceOut(s.entry_id, s.title, s.score) for s in message.sources],
            message.author_name,
            message.outcome is ReplyOutcome.INTERRUPTED,
            message.created_at,
        )


ChatMessagePage = Annotated[ListOut[ChatMessageOut], schema_name("ChatMessagePage")]


class ExchangeOut(msgspec.Struct):
    message: ChatMessageOut
    reply: ChatMessageOut | None
    mode: str

    @classmethod
    def of(cls, outcome: MessageOutcome) -> ExchangeOut:
        reply = ChatMessageOut.of(outcome.reply) if outcome.reply else None
        return cls(ChatMessageOut.of(outcome.question), reply, outcome.mode.value)


class HandoverRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class HandoverModeOut(msgspec.Struct):
    session_id: UUID
    mode: str


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
    settings: Settings,
    *,
    write: bool,
) -> tuple[Organization, BotConfig, dict[str, str]]:
    """The key's organization and bot config, with the request counted against the widget budgets:
    each client IP has its own share under a larger ceiling for the whole key (one round trip)."""
    entered = await access.enter(api_key(request), widget_budgets(request, settings))
    check_origin(request, entered.config, write=write)
    return entered.organization, entered.config, rate_headers(entered.decisions[0])


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
        settings: FromDishka[Settings],
    ) -> Response[WidgetConfigOut]:
        _, config, headers = await widget_context(request, access, settings, write=False)
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
        settings: FromDishka[Settings],
        start: FromDishka[StartSession],
    ) -> Response[SessionOut]:
        organization, config, headers = await widget_context(request, access, settings, write=True)
        visitor = {k: v for k, v in msgspec.structs.asdict(data.visitor).items() if v} if data.visitor else {}
        started = await start(organization, config, visitor, dict(data.metadata or {}))
        body = SessionOut(
            session_id=started.session.id,
            session_token=started.token,
            status=started.session.status.value,
            mode=started.session.mode.value,
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
        settings: Settings,
        find: FindSession,
        *,
        write: bool,
        lock: bool = False,
    ) -> tuple[ChatSession, BotConfig, dict[str, str], Organization]:
        organization, config, headers = await widget_context(request, access, settings, write=write)
        token = request.headers.get("x-session-token", "").strip()
        session = await find(organization.id, session_id, token, lock=lock)
        return session, config, headers, organization

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
        send: FromDishka[SendMessage],
    ) -> Response[Any]:
        session, config, headers, organization = await self._session(
            request, session_id, access, settings, find, write=True, lock=True
        )
        headers |= await consume(
            limiter, f"widget-session:{session.id}", settings_limit(settings, "widget_session_messages")
        )
        result = await send(session, config, data.content, organization_name=organization.name, locked=True)
        streaming = "text/event-stream" in request.headers.get("accept", "")
        if isinstance(result, MessageOutcome):  # nobody answers now, or the answer is immediate
            if streaming:
                return Stream(
                    iter([sse("done", ExchangeOut.of(result))]),
                    media_type="text/event-stream",
                    status_code=200,
                    headers={**headers, **SSE_HEADERS},
                )
            return Response(ExchangeOut.of(result), status_code=201, headers=headers)
        if streaming:
            first = await result.next()
            if first[0] == "error":
                body = _error_body(first[1])
                raise ApiError(
                    int(str(body["status_code"])), str(body["code"]), str(body["detail"]), headers=headers
                )
            return Stream(
                self._events(first, result),
                media_type="text/event-stream",
                status_code=200,
                headers={**headers, **SSE_HEADERS},
            )
        outcome = await result.result()
        return Response(ExchangeOut.of(outcome), status_code=201, headers=headers)

    @staticmethod
    async def _events(first: tuple[str, Any], run: ReplyRun) -> AsyncIterator[bytes]:
        kind, value = first
        while True:
            if kind == "delta":
                yield sse("delta", {"text": value})
            elif kind == "done":
                yield sse("done", ExchangeOut.of(value))
                return
            else:
                yield sse("error", _error_body(value))
                return
            kind, value = await run.next()

    @get("/sessions/{session_id:uuid}/messages", summary="The conversation, oldest first")
    @inject
    async def history(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        list_messages: FromDishka[ListMessages],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Response[ChatMessagePage]:
        session, _, headers, _ = await self._session(request, session_id, access, settings, find, write=False)
        page = await list_messages(session, page_of(limit, offset))
        body = ListOut([ChatMessageOut.of(m) for m in page.items], page.total, page.limit, page.offset)
        return Response(body, headers=headers)

    @post("/sessions/{session_id:uuid}/close", status_code=200, summary="Close the conversation")
    @inject
    async def close(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        close: FromDishka[CustomerCloses],
    ) -> Response[ClosedOut]:
        session, _, headers, _ = await self._session(request, session_id, access, settings, find, write=True)
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

    @post("/sessions/{session_id:uuid}/handover", status_code=200, summary="Ask for a person")
    @inject
    async def handover(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        request_handover: FromDishka[RequestHandover],
        data: Annotated[HandoverRequestIn | None, Body()] = None,
    ) -> Response[HandoverModeOut]:
        session, config, headers, _ = await self._session(
            request, session_id, access, settings, find, write=True
        )
        updated = await request_handover(session, config, data.reason if data else None)
        return Response(HandoverModeOut(updated.id, updated.mode.value), headers=headers)

    @get("/sessions/{session_id:uuid}/events", summary="Live events for the customer (SSE)")
    @inject
    async def events(
        self,
        request: Request[Any, Any, Any],
        session_id: FromPath[UUID],
        access: FromDishka[WidgetAccess],
        settings: FromDishka[Settings],
        find: FromDishka[FindSession],
        events: FromDishka[ConversationEvents],
        in_flight: FromDishka[RepliesInFlight],
        uow: FromDishka[UnitOfWork],
    ) -> Stream:
        session, _, headers, _ = await self._session(request, session_id, access, settings, find, write=False)
        await uow.rollback()  # hand the database connection back: the stream may stay open for hours
        subscription = await events.subscribe(CUSTOMER, session.id)
        if session.status.value == "closed":
            await subscription.close()
            return Stream(
                iter(
                    [b": connected\n\n", sse("closed", {"session_id": str(session.id), "status": "closed"})]
                ),
                media_type="text/event-stream",
                status_code=200,
                headers={**headers, **SSE_HEADERS},
            )
        return Stream(
            event_stream(subscription, in_flight, settings.events_keepalive_s, last=("closed",)),
            media_type="text/event-stream",
            status_code=200,
            headers={**headers, **SSE_HEADERS},
        )
