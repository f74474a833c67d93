"""Section 10 of the contract: the staff inbox of conversations and human handover."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Stream

from kalamna.application.auth.principal import Principal
from kalamna.application.conversations.replies import RepliesInFlight
from kalamna.application.conversations.staff import (
    AssignConversation,
    CloseConversation,
    ExportConversations,
    GetConversation,
    ListConversations,
    ReleaseConversation,
    ReplyAsAgent,
    WatchConversations,
)
from kalamna.config import Settings
from kalamna.ports.conversations import ConversationView, ExportRow
from kalamna.ports.repositories import UnitOfWork
from kalamna.web.controllers.analytics import DateFrom, DateTo
from kalamna.web.controllers.widget import ChatMessageOut, MessageIn
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, schema_name
from kalamna.web.sse import SSE_HEADERS, event_stream


class VisitorOut(msgspec.Struct):
    id: str | None
    name: str | None
    email: str | None
    locale: str | None


class ConversationOut(msgspec.Struct):
    id: UUID
    status: str
    mode: str
    visitor: VisitorOut
    metadata: dict[str, str]
    assigned_to: UUID | None
    assigned_name: str | None
    message_count: int
    last_message_at: datetime | None
    last_message_preview: str | None
    rating: int | None
    handover_reason: str | None
    waiting_since: datetime | None
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def fields_of(cls, view: ConversationView) -> dict[str, Any]:
        s = view.session
        return {
            "id": s.id,
            "status": s.status.value,
            "mode": s.mode.value,
            "visitor": VisitorOut(*(s.visitor.get(k) for k in ("id", "name", "email", "locale"))),
            "metadata": dict(s.metadata),
            "assigned_to": s.assigned_to,
            "assigned_name": view.assigned_name,
            "message_count": view.message_count,
            "last_message_at": view.last_message_at,
            "last_message_preview": view.last_message_preview,
            "rating": view.rating,
            "handover_reason": s.handover_reason,
            "waiting_since": s.waiting_since,
            "created_at": s.created_at,
            "closed_at": s.closed_at,
        }

    @classmethod
    def of(cls, view: ConversationView) -> ConversationOut:
        return cls(**cls.fields_of(view))


ConversationPage = Annotated[ListOut[ConversationOut], schema_name("ConversationPage")]


class ConversationDetailOut(ConversationOut):
    messages: list[ChatMessageOut]


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: UUID | None = None


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "conversation_id",
    "started_at",
    "visitor",
    "mode",
    "role",
    "author",
    "content",
    "sources",
    "rating",
]


def csv_cell(value: object) -> str:
    """Text as a spreadsheet shows it, never as a formula: a leading = + - @ (or tab, CR) gets a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv(rows: list[ExportRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        visitor = " ".join(
            v for v in (row.visitor.get("name"), row.visitor.get("email"), row.visitor.get("id")) if v
        )
        writer.writerow(
            [
                csv_cell(c)
                for c in (
                    row.session_id,
                    row.started_at.isoformat().replace("+00:00", "Z"),
                    visitor,
                    row.mode,
                    row.role,
                    row.author,
                    row.content,
                    "; ".join(row.sources),
                    row.rating,
                )
            ]
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


class ConversationController(Controller):
    path = "/orgs/{org_id:uuid}/conversations"
    tags = ["conversations"]

    @get("/", summary="Conversations, latest activity first (owner, staff)")
    @inject
    async def list_conversations(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_conversations: FromDishka[ListConversations],
        status: Annotated[str | None, QueryParameter(description="open or closed")] = None,
        mode: Annotated[str | None, QueryParameter(description="bot, waiting or human")] = None,
        assigned_to: Annotated[str | None, QueryParameter(description="an employee id, or me")] = None,
        q: Annotated[str | None, QueryParameter(description="words in the messages", max_length=200)] = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> ConversationPage:
        page = await list_conversations(
            principal,
            org_id,
            page_of(limit, offset),
            status=status,
            mode=mode,
            assigned_to=assigned_to,
            q=q,
            date_from=date_from,
            date_to=date_to,
        )
        return ListOut([ConversationOut.of(v) for v in page.items], page.total, page.limit, page.offset)

    @get("/events", summary="Live conversation changes for the staff console (SSE)")
    @inject
    async def events(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        watch: FromDishka[WatchConversations],
        in_flight: FromDishka[RepliesInFlight],
        settings: FromDishka[Settings],
        uow: FromDishka[UnitOfWork],
    ) -> Stream:
        subscription = await watch(principal, org_id)
        await uow.rollback()  # hand the database connection back: the stream may stay open for hours
        return Stream(
            event_stream(subscription, in_flight, settings.events_keepalive_s),
            media_type="text/event-stream",
            status_code=200,
            headers=SSE_HEADERS,
        )

    @get("/export", summary="Messages of the conversations as CSV (owner, staff)")
    @inject
    async def export(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        export: FromDishka[ExportConversations],
        date_from: DateFrom = None,
        date_to: DateTo = None,
    ) -> Response[bytes]:
        rows = await export(principal, org_id, date_from=date_from, date_to=date_to)
        return Response(
            render_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="conversations.csv"'},
        )

    @get("/{session_id:uuid}", summary="A conversation with its messages (owner, staff)")
    @inject
    async def detail(
        self,
        org_id: FromPath[UUID],
        session_id: FromPath[UUID],
        principal: FromDishka[Principal],
        get_conversation: FromDishka[GetConversation],
    ) -> ConversationDetailOut:
        found = await get_conversation(principal, org_id, session_id)
        return ConversationDetailOut(
            **ConversationOut.fields_of(found.view), messages=[ChatMessageOut.of(m) for m in found.messages]
        )

    @post("/{session_id:uuid}/assign", status_code=200, summary="Assign to an employee (default: me)")
    @inject
    async def assign(
        self,
        org_id: FromPath[UUID],
        session_id: FromPath[UUID],
        principal: FromDishka[Principal],
        assign: FromDishka[AssignConversation],
        data: Annotated[AssignIn | None, Body()] = None,
    ) -> ConversationOut:
        return ConversationOut.of(
            await assign(principal, org_id, session_id, data.employee_id if data else None)
        )

    @post("/{session_id:uuid}/messages", status_code=201, summary="Reply to the customer as an agent")
    @inject
    async def reply(
        self,
        org_id: FromPath[UUID],
        session_id: FromPath[UUID],
        data: Annotated[MessageIn, Body()],
        principal: FromDishka[Principal],
        reply: FromDishka[ReplyAsAgent],
    ) -> ChatMessageOut:
        return ChatMessageOut.of(await reply(principal, org_id, session_id, data.content))

    @post("/{session_id:uuid}/release", status_code=200, summary="Give the conversation back to the bot")
    @inject
    async def release(
        self,
        org_id: FromPath[UUID],
        session_id: FromPath[UUID],
        principal: FromDishka[Principal],
        release: FromDishka[ReleaseConversation],
    ) -> ConversationOut:
        return ConversationOut.of(await release(principal, org_id, session_id))

    @post("/{session_id:uuid}/close", status_code=200, summary="Close the conversation")
    @inject
    async def close(
        self,
        org_id: FromPath[UUID],
        session_id: FromPath[UUID],
        principal: FromDishka[Principal],
        close: FromDishka[CloseConversation],
    ) -> ConversationOut:
        return ConversationOut.of(await close(principal, org_id, session_id))
