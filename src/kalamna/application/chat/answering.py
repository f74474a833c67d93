"""Answering a customer's message: keep the question, retrieve, decide, generate, keep the reply.

1. ``PrepareAnswer`` stores the customer's message first (committed: it is never lost), retrieves
   from the organization's knowledge and decides: nothing scores above ``min_score`` → the
   organization's fallback message, without calling the model; otherwise a grounded prompt.
2. ``ProduceReply`` runs the model (streamed), hiding the "not in the context" sentinel: a model that
   cannot answer yields the fallback message, not an invented answer.
3. ``SaveReply`` stores the reply with its sources, model, token usage and latency.

The web edge runs 2 and 3 in a task of their own, so a client that disconnects mid-stream still
leaves the complete reply stored.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from kalamna.application.chat.condense import search_in_conversation
from kalamna.application.chat.prompt import (
    NO_ANSWER_SENTINEL,
    BotPersona,
    BuiltPrompt,
    PromptBuilder,
    PromptPassage,
    is_no_answer,
)
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge
from kalamna.domain.ai import ChatMessage as ModelMessage
from kalamna.domain.ai import ChatUsage
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, MessageRole, ReplyOutcome, SourceRef, check_message
from kalamna.domain.errors import LlmUnavailable
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import SearchHit
from kalamna.domain.terms import guess_language
from kalamna.ports.ai import ChatModel
from kalamna.ports.chat import ChatRepository
from kalamna.ports.repositories import OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock

_SENTINEL_TEXT = NO_ANSWER_SENTINEL.upper()
_SENTINEL_CORE = _SENTINEL_TEXT.strip("[]")
_LEADING = " \t\r\n*_`\"'({"
_PARTIAL_SENTINEL = re.compile(r"\[+\s*([A-Za-z_]*)$")
_SENTINEL_ANYWHERE = re.compile(r"\[*\s*NO_ANSWER\s*\]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    history_messages: int = 10
    context_tokens: int = 2000
    # When the model is unreachable: False → 503 llm_unavailable (the question is kept);
    # True → the organization's fallback message is sent instead.
    fallback_on_llm_error: bool = False


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    session_id: UUID
    organization_id: UUID
    question: ChatMessage
    fallback_message: str
    temperature: float
    max_tokens: int
    started: float
    prompt: list[ModelMessage] | None = None  # None: answer with the fallback, no model call
    sources: list[SourceRef] = field(default_factory=list)
    prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ProducedReply:
    text: str
    outcome: ReplyOutcome
    model: str | None
    usage: ChatUsage
    latency_ms: int
    first_token_ms: int | None
    sources: list[SourceRef]


def persona_of(config: BotConfig, organization_name: str) -> BotPersona:
    return BotPersona(
        bot_name=config.bot_name,
        tone=config.tone,
        language=config.language,
        instructions=config.instructions,
        organization_name=organization_name,
    )


class PrepareAnswer:
    def __init__(
        self,
        chats: ChatRepository,
        organizations: OrganizationRepository,
        search: SearchKnowledge,
        context: BuildContext,
        prompts: PromptBuilder,
        uow: UnitOfWork,
        clock: Clock,
        policy: AnswerPolicy,
    ) -> None:
        self._chats = chats
        self._organizations = organizations
        self._search = search
        self._context = context
        self._prompts = prompts
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(
        self, session: ChatSession, config: BotConfig, content: str, *, organization_name: str | None = None
    ) -> AnswerPlan:
        """``organization_name``: for the persona, when the caller has it (else it is read)."""
        started = time.perf_counter()
        text = check_message(content)
        session.ensure_open()
        question = ChatMessage(
            id=new_id(),
            session_id=session.id,
            organization_id=session.organization_id,
            role=MessageRole.USER,
            content=text,
            created_at=self._clock.now(),
        )
        history = await self._chats.recent_messages(
            session.organization_id, session.id, self._policy.history_messages
        )
        await self._chats.add_message(question)
        await self._uow.commit()  # the customer's message is kept whatever happens next

        found = await search_in_conversation(
            self._search, session.organization_id, text, history, config.top_k
        )
        grounded = await ground(
            self._context, session.organization_id, found, config.min_score, self._policy.context_tokens
        )
        if grounded is None:
            await self._uow.rollback()
            return plan_of(question, config, started)
        passages, sources = grounded
        if organization_name is None:
            organization = await self._organizations.get(session.organization_id)
            organization_name = organization.name if organization else ""
        prompt = self._prompts.build(
            persona_of(config, organization_name),
            text,
            passages,
            [ModelMessage("user" if m.role is MessageRole.USER else "assistant", m.content) for m in history],
        )
        await self._uow.rollback()  # end the read transaction: no connection is held during the model call
        return plan_of(question, config, started, prompt, sources)


async def ground(
    context: BuildContext, organization_id: UUID, found: Sequence[SearchHit], min_score: float, budget: int
) -> tuple[list[PromptPassage], list[SourceRef]] | None:
    """The passages (within ``budget`` tokens) and sources of the hits that score ``min_score`` or more;
    ``None`` when none does."""
    hits = [h for h in found if h.score >= min_score]
    if not hits:
        return None
    built = await context.from_hits(organization_id, hits, budget, exact=False)
    passages = [
        PromptPassage(text=passage, title=source.title, entry_id=source.entry_id)
        for source, passage in built.passages
    ]
    return passages, [SourceRef(s.entry_id, s.title, s.score) for s in built.sources]


def plan_of(
    question: ChatMessage,
    config: BotConfig,
    started: float,
    prompt: BuiltPrompt | None = None,
    sources: list[SourceRef] | None = None,
) -> AnswerPlan:
    """The plan of one answer: without a prompt, the organization's fallback message (no model call)."""
    return AnswerPlan(
        session_id=question.session_id,
        organization_id=question.organization_id,
        question=question,
        fallback_message=config.fallback_for(guess_language(question.content)),
        temperature=config.temperature,
        max_tokens=config.max_answer_tokens,
        started=started,
        prompt=prompt.messages if prompt else None,
        sources=sources or [],
        prompt_tokens=prompt.prompt_tokens if prompt else 0,
    )


class SentinelFilter:
    """Streams text through, except the no-answer sentinel ``[[NO_ANSWER]]`` (also as ``[NO_ANSWER]``,
    ``NO_ANSWER``, any case, decorated with Markdown or quotes, and however the model splits it into
    pieces: ``[[``, ``NO``, ``_ANSWER``, ``]]``). The opening is held back until it is clear the reply
    is not the sentinel; a sentinel later in the text is dropped, and a trailing piece that may be
    the start of one is held back until the next delta (or ``finish``)."""

    def __init__(self) -> None:
        self.raw = ""
        self.sent = ""
        self.started = False

    @staticmethod
    def _may_open_with_sentinel(raw: str) -> bool:
        core = raw.lstrip(_LEADING).lstrip("[").lstrip().upper()
        return not core or _SENTINEL_CORE.startswith(core[: len(_SENTINEL_CORE)])

    def _visible(self, final: bool) -> str:
        visible = _SENTINEL_ANYWHERE.sub("", self.raw)
        if final:
            return visible
        # A sentinel at the very end may still grow closing brackets: hold back from its start.
        matches = list(_SENTINEL_ANYWHERE.finditer(self.raw))
        last = matches[-1] if matches else None
        if last is not None and last.end() == len(self.raw) and not last.group().endswith("]]"):
            return _SENTINEL_ANYWHERE.sub("", self.raw[: last.start()])
        # A trailing "[", "[[N", "[[NO_ANS" … may be the start of a sentinel: wait for more.
        partial = _PARTIAL_SENTINEL.search(visible)
        if partial is not None and _SENTINEL_CORE.startswith(partial.group(1).upper()):
            return visible[: partial.start()]
        return visible

    def _advance(self, visible: str) -> str:
        out = visible[len(self.sent) :] if visible.startswith(self.sent) else ""
        self.sent += out
        return out

    def feed(self, delta: str) -> str:
        self.raw += delta
        if not self.started:
            if self._may_open_with_sentinel(self.raw):
                return ""
            self.started = True
        return self._advance(self._visible(final=False))

    def finish(self) -> str:
        if not self.started:
            if is_no_answer(self.raw) or not _SENTINEL_ANYWHERE.sub("", self.raw).strip(_LEADING + "[]"):
                return ""
            self.started = True  # it only looked like a sentinel ("No", "[1]")
        return self._advance(self._visible(final=True))


class ProduceReply:
    """Yields the reply's text as it is produced, then one ``ProducedReply``."""

    def __init__(self, model: ChatModel, policy: AnswerPolicy) -> None:
        self._model = model
        self._policy = policy

    async def __call__(self, plan: AnswerPlan) -> AsyncIterator[str | ProducedReply]:
        if plan.prompt is None:
            yield plan.fallback_message
            yield self._result(  # the fallback is the reply's first (and only) text
                plan,
                plan.fallback_message,
                ReplyOutcome.FALLBACK,
                None,
                ChatUsage(0, 0),
                _ms_since(plan.started),
            )
            return
        filtering = SentinelFilter()
        usage = ChatUsage(plan.prompt_tokens, 0)
        first_token_ms: int | None = None
        try:
            async for item in self._model.stream(
                plan.prompt, temperature=plan.temperature, max_tokens=plan.max_tokens
            ):
                if isinstance(item, ChatUsage):
                    usage = item
                    continue
                out = filtering.feed(item)
                if out:
                    if first_token_ms is None:
                        first_token_ms = _ms_since(plan.started)
                    yield out
        except LlmUnavailable:
            if filtering.sent or not self._policy.fallback_on_llm_error:
                raise
            yield plan.fallback_message
            yield self._result(
                plan, plan.fallback_message, ReplyOutcome.LLM_UNAVAILABLE, None, ChatUsage(0, 0), None
            )
            return
        tail = filtering.finish()
        if tail:
            if first_token_ms is None:
                first_token_ms = _ms_since(plan.started)
            yield tail
        if not filtering.sent.strip() or is_no_answer(filtering.raw):
            # A no-answer always ends in the fallback message (after whatever was already shown).
            extra = ("\n\n" if filtering.sent.strip() else "") + plan.fallback_message
            yield extra
            text = filtering.sent + extra if filtering.sent.strip() else plan.fallback_message
            yield self._result(plan, text, ReplyOutcome.FALLBACK, self._model.model, usage, first_token_ms)
            return
        yield self._result(
            plan, filtering.sent, ReplyOutcome.ANSWERED, self._model.model, usage, first_token_ms
        )

    @staticmethod
    def _result(
        plan: AnswerPlan,
        text: str,
        outcome: ReplyOutcome,
        model: str | None,
        usage: ChatUsage,
        first_token_ms: int | None,
    ) -> ProducedReply:
        sources = plan.sources if outcome is ReplyOutcome.ANSWERED else []
        return ProducedReply(text, outcome, model, usage, _ms_since(plan.started), first_token_ms, sources)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


class SaveReply:
    def __init__(self, chats: ChatRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._chats = chats
        self._uow = uow
        self._clock = clock

    async def __call__(self, plan: AnswerPlan, reply: ProducedReply) -> ChatMessage:
        message = ChatMessage(
            id=new_id(),
            session_id=plan.session_id,
            organization_id=plan.organization_id,
            role=MessageRole.ASSISTANT,
            content=reply.text,
            created_at=self._clock.now(),
            sources=list(reply.sources),
            reply_to=plan.question.id,
            outcome=reply.outcome,
            model=reply.model,
            prompt_tokens=reply.usage.prompt_tokens,
            completion_tokens=reply.usage.completion_tokens,
            latency_ms=reply.latency_ms,
            first_token_ms=reply.first_token_ms,
        )
        await self._chats.add_message(message)
        await self._uow.commit()
        return message


async def collect(stream: AsyncIterator[str | ProducedReply]) -> ProducedReply:
    """Run a reply to the end (non-streaming callers)."""
    result: ProducedReply | None = None
    async for item in stream:
        if isinstance(item, ProducedReply):
            result = item
    assert result is not None
    return result
