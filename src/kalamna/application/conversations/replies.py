"""A customer's message and its reply, from start to end.

``SendMessage`` (per request) keeps the customer's message and decides who answers:

- the conversation is ``waiting`` or ``human``: nobody; the message is stored, staff are told;
- the message asks for a person (``domain.handover.asks_for_person``) and handover is enabled: the
  conversation moves to ``waiting`` and the reply is a ``system`` message with ``handover.message``;
- otherwise the bot: ``PrepareAnswer`` (answering.py) stores the question and plans the reply, and
  ``ReplyRunner`` runs the rest in a task of its own — produce (``ProduceReply``), save
  (``SaveReply``), count fallbacks (``handover.after_fallbacks`` in a row hand over), publish — so
  that a client that goes away still leaves the complete reply stored.

The web edge only adapts a ``ReplyRun`` to JSON or SSE. ``RepliesInFlight`` knows every running
reply: at shutdown it waits for them (bounded); a reply still running ``grace_s`` after the server
started draining is cut, stored with what was produced and marked ``interrupted``, and its listener
gets a ``service_unavailable`` error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kalamna.application.chat.answering import (
    AnswerPlan,
    PrepareAnswer,
    ProducedReply,
    ProduceReply,
    SaveReply,
)
from kalamna.application.conversations.hooks import announce_conversation, announce_messages, announce_session
from kalamna.application.conversations.live import Broadcast
from kalamna.application.conversations.notify import WaitingNotifier
from kalamna.domain.ai import ChatUsage
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, MessageRole, ReplyOutcome, check_message
from kalamna.domain.errors import DependencyUnavailable, DomainError, NotFound
from kalamna.domain.handover import ConversationMode, HandoverReason, asks_for_person
from kalamna.domain.ids import new_id
from kalamna.domain.terms import guess_language
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import (
    ChatTransaction,
    ChatTransactions,
    ConversationEvents,
    ConversationRepository,
    ConversationView,
    StaffPresence,
)
from kalamna.ports.repositories import EmployeeRepository, UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import DetachedWebhookEvents, WebhookEvents

log = logging.getLogger("kalamna.chat")

NOT_ANSWERED = (ReplyOutcome.FALLBACK, ReplyOutcome.LLM_UNAVAILABLE)


class ReplyInterrupted(DependencyUnavailable):
    default_detail = "The server is restarting: the reply was cut short and kept as far as it got."


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """The answer to ``POST .../messages``: the customer's message, the reply (None while a person
    handles the conversation) and the conversation's mode afterwards."""

    question: ChatMessage
    reply: ChatMessage | None
    mode: ConversationMode


class RepliesInFlight:
    """Every reply task of this process; drained at shutdown."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.draining = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def drain(self) -> None:
        """Shutdown started: running replies have ``grace_s`` to finish, new streams end."""
        self.draining.set()

    async def cut_off(self) -> None:
        """Returns ``grace_s`` after draining started."""
        await self.draining.wait()
        await asyncio.sleep(self.grace_s)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout_s: float) -> int:
        """Wait for the running replies; returns how many were still running at the timeout."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)
        return len(self._tasks)


def new_message(
    session: ChatSession,
    role: MessageRole,
    content: str,
    now: datetime,
    *,
    reply_to: ChatMessage | None = None,
    outcome: ReplyOutcome | None = None,
) -> ChatMessage:
    return ChatMessage(
        id=new_id(),
        session_id=session.id,
        organization_id=session.organization_id,
        role=role,
        content=content,
        created_at=now,
        reply_to=reply_to.id if reply_to else None,
        outcome=outcome,
    )


class ReplyRun:
    """One reply being produced. Listen with ``events()`` (deltas, then done or error) or wait
    with ``result()``; the run goes on whether anyone listens or not."""

    def __init__(self, question: ChatMessage) -> None:
        self.question = question
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(self, kind: str, value: Any) -> None:
        self._events.put_nowait((kind, value))

    async def next(self) -> tuple[str, Any]:
        """("delta", str), then ("done", MessageOutcome) or ("error", exception)."""
        return await self._events.get()

    async def events(self) -> AsyncIterator[tuple[str, Any]]:
        while True:
            kind, value = await self.next()
            yield kind, value
            if kind != "delta":
                return

    async def result(self) -> MessageOutcome:
        async for kind, value in self.events():
            if kind == "done":
                return value  # type: ignore[no-any-return]
            if kind == "error":
                raise value
        raise AssertionError("a reply run ends with done or error")


class ReplyRunner:
    def __init__(
        self,
        produce: ProduceReply,
        transactions: ChatTransactions,
        events: ConversationEvents,
        in_flight: RepliesInFlight,
        clock: Clock,
        notify: WaitingNotifier,
        webhooks: DetachedWebhookEvents,
        presence: StaffPresence,
    ) -> None:
        self._presence = presence
        self._notify = notify
        self._webhooks = webhooks
        self._produce = produce
        self._transactions = transactions
        self._events = events
        self._in_flight = in_flight
        self._clock = clock

    def start(self, session: ChatSession, config: BotConfig, plan: AnswerPlan) -> ReplyRun:
        run = ReplyRun(plan.question)
        self._in_flight.spawn(self._run(run, session, config, plan), name=f"reply-{plan.question.id}")
        return run

    async def _run(self, run: ReplyRun, session: ChatSession, config: BotConfig, plan: AnswerPlan) -> None:
        try:
            outcome = await self._reply(run, session, config, plan)
        except DomainError as exc:
            run.put("error", exc)
        except Exception as exc:
            log.exception("reply failed", extra={"message_id": str(plan.question.id)})
            run.put("error", exc)
        else:
            if isinstance(outcome, ReplyInterrupted):
                run.put("error", outcome)
            else:
                run.put("done", outcome)

    async def _reply(
        self, run: ReplyRun, session: ChatSession, config: BotConfig, plan: AnswerPlan
    ) -> MessageOutcome | ReplyInterrupted:
        handover = config.handover
        certain_fallback = plan.prompt is None
        if (
            certain_fallback
            and handover.enabled
            and session.fallbacks_trigger_handover(handover.after_fallbacks)
        ):
            # This reply would be one fallback too many: a person is asked for instead.
            return await self._finish(session, config, plan, None)
        parts: list[str] = []
        produced: list[ProducedReply] = []

        async def produce() -> None:
            async for item in self._produce(plan):
                if isinstance(item, ProducedReply):
                    produced.append(item)
                else:
                    parts.append(item)
                    run.put("delta", item)

        producing = asyncio.create_task(produce())
        cut_off = asyncio.create_task(self._in_flight.cut_off())
        try:
            await asyncio.wait({producing, cut_off}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cut_off.cancel()
        if not producing.done():
            producing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producing
            partial = ProducedReply(
                text="".join(parts),
                outcome=ReplyOutcome.INTERRUPTED,
                model=None,
                usage=ChatUsage(plan.prompt_tokens, 0),
                latency_ms=int((time.perf_counter() - plan.started) * 1000),
                first_token_ms=None,
                sources=[],
            )
            await self._finish(session, config, plan, partial)
            return ReplyInterrupted()
        producing.result()  # re-raises what the production raised (LLM unavailable, ...)
        return await self._finish(session, config, plan, produced[-1])

    async def _finish(
        self, session: ChatSession, config: BotConfig, plan: AnswerPlan, reply: ProducedReply | None
    ) -> MessageOutcome:
        async with self._transactions() as tx:
            outcome, announced, waiting_view = await self._save(tx, session, config, plan, reply)
            await tx.uow.rollback()  # end the reads: no pooled connection is held while publishing
        # Webhooks publish in transactions of their own: only after this one gave its connection back
        # (holding one while asking for another starved the pool under load).
        await announce_messages(self._webhooks, *announced)
        if waiting_view is not None:
            await announce_conversation(self._webhooks, WebhookEvent.CONVERSATION_WAITING, waiting_view)
        return outcome

    async def _save(
        self,
        tx: ChatTransaction,
        session: ChatSession,
        config: BotConfig,
        plan: AnswerPlan,
        reply: ProducedReply | None,
    ) -> tuple[MessageOutcome, list[ChatMessage | None], ConversationView | None]:
        saved = await SaveReply(tx.chats, tx.uow, self._clock)(plan, reply) if reply else None
        current = await tx.conversations.lock(session.organization_id, session.id)
        if current is None:
            raise NotFound("Conversation not found.")
        broadcast = Broadcast(self._events, current)
        if not current.bot_answers or (reply is not None and reply.outcome is ReplyOutcome.INTERRUPTED):
            # Taken by a person (or closed) while the bot was replying, or cut short: the reply
            # the customer saw is kept, but it counts for nothing.
            await tx.uow.commit()
            await broadcast.send(tx.conversations)
            return MessageOutcome(plan.question, saved, current.mode), [saved], None
        in_row = current.count_bot_reply(reply is None or reply.outcome in NOT_ANSWERED)
        handover = config.handover
        answer = saved
        if handover.enabled and 0 < handover.after_fallbacks <= in_row:
            now = self._clock.now()
            current.ask_for_person(HandoverReason.FALLBACKS, HandoverReason.FALLBACKS.value, now)
            answer = new_message(
                current,
                MessageRole.SYSTEM,
                handover.message_for(guess_language(plan.question.content)),
                now,
                reply_to=plan.question,
                outcome=ReplyOutcome.HANDOVER,
            )
            await tx.chats.add_message(answer)
            await tx.conversations.start_handover(
                current.organization_id, current.id, HandoverReason.FALLBACKS.value, plan.question.id, now
            )
            broadcast.mode(current.mode, None)
        await tx.chats.save_session(current)
        await tx.uow.commit()
        # The staff console's row of this conversation is read (one query with three subqueries) and
        # published only when someone watches the console; a console opened later reads the list.
        staff = current.mode is not ConversationMode.BOT or await self._presence.anyone_here(
            current.organization_id
        )
        await broadcast.send(tx.conversations, staff=staff)
        waiting_view = None
        if current.mode is ConversationMode.WAITING:
            if self._webhooks is not None:
                waiting_view = await tx.conversations.view(current.organization_id, current.id)
            await self._notify(current, tx.conversations, tx.employees, tx.uow)
        announced = [saved, answer if answer is not saved else None]
        return MessageOutcome(plan.question, answer, current.mode), announced, waiting_view


class SendMessage:
    """The customer writes: keep the message and decide who answers (see the module's doc)."""

    def __init__(
        self,
        prepare: PrepareAnswer,
        chats: ChatRepository,
        conversations: ConversationRepository,
        uow: UnitOfWork,
        clock: Clock,
        events: ConversationEvents,
        runner: ReplyRunner,
        employees: EmployeeRepository,
        notify: WaitingNotifier,
        webhooks: WebhookEvents | None = None,
    ) -> None:
        self._employees = employees
        self._notify = notify
        self._webhooks = webhooks
        self._prepare = prepare
        self._chats = chats
        self._conversations = conversations
        self._uow = uow
        self._clock = clock
        self._events = events
        self._runner = runner

    async def __call__(
        self,
        session: ChatSession,
        config: BotConfig,
        content: str,
        *,
        organization_name: str | None = None,
        locked: bool = False,
    ) -> MessageOutcome | ReplyRun:
        """``locked``: ``session`` was read with its row lock in this request's transaction (one
        query less); otherwise it is locked and read again here."""
        text = check_message(content)
        current = session if locked else await self._conversations.lock(session.organization_id, session.id)
        if current is None:
            raise NotFound("Conversation not found.")
        current.ensure_open()
        if current.bot_answers and not (config.handover.enabled and asks_for_person(text)):
            # The bot answers: PrepareAnswer stores the question in this same transaction and commits
            # (which releases the lock) before it searches.
            plan = await self._prepare(current, config, content, organization_name=organization_name)
            # The question is announced before the reply starts, so a receiver never gets the
            # reply's message.created first (the reply is announced by the task that saves it).
            await announce_messages(self._webhooks, plan.question)  # stored by PrepareAnswer
            return self._runner.start(current, config, plan)
        now = self._clock.now()
        question = new_message(current, MessageRole.USER, text, now)
        await self._chats.add_message(question)
        broadcast = Broadcast(self._events, current)
        reply: ChatMessage | None = None
        if current.bot_answers:  # the message asks for a person
            current.ask_for_person(HandoverReason.ASKED, HandoverReason.ASKED.value, now)
            reply = new_message(
                current,
                MessageRole.SYSTEM,
                config.handover.message_for(guess_language(text)),
                now,
                reply_to=question,
                outcome=ReplyOutcome.HANDOVER,
            )
            await self._chats.add_message(reply)
            await self._conversations.start_handover(
                current.organization_id, current.id, HandoverReason.ASKED.value, question.id, now
            )
            broadcast.mode(current.mode, None)
        current.updated_at = now
        await self._chats.save_session(current)
        await self._uow.commit()
        await broadcast.send(self._conversations)
        await announce_messages(self._webhooks, question, reply)
        if reply is not None:  # this message asked for a person
            waiting = WebhookEvent.CONVERSATION_WAITING
            await announce_session(self._webhooks, waiting, self._conversations, current)
            await self._notify(current, self._conversations, self._employees, self._uow)
        return MessageOutcome(question, reply, current.mode)
