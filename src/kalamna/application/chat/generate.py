"""``POST /internal/ai/generate``: the answering pipeline on a given message, context and history,
without a conversation (nothing is stored)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from uuid import UUID

from kalamna.application.chat.answering import AnswerPlan, ProducedReply, ProduceReply, collect, persona_of
from kalamna.application.chat.prompt import PromptBuilder, PromptPassage
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge
from kalamna.domain.ai import ChatMessage as ModelMessage
from kalamna.domain.chat import ChatMessage, MessageRole, SourceRef, check_message
from kalamna.domain.errors import NotFound
from kalamna.domain.terms import guess_language
from kalamna.ports.repositories import BotConfigRepository, OrganizationRepository
from kalamna.ports.security import Clock


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    organization_id: UUID
    message: str
    context: str | None
    history: list[tuple[str, str]]


class GenerateAnswer:
    def __init__(
        self,
        organizations: OrganizationRepository,
        configs: BotConfigRepository,
        search: SearchKnowledge,
        context: BuildContext,
        prompts: PromptBuilder,
        produce: ProduceReply,
        clock: Clock,
    ) -> None:
        self._organizations = organizations
        self._configs = configs
        self._search = search
        self._context = context
        self._prompts = prompts
        self._produce = produce
        self._clock = clock

    async def __call__(self, request: GenerateRequest) -> ProducedReply:
        started = time.perf_counter()
        text = check_message(request.message)
        organization = await self._organizations.get(request.organization_id)
        config = await self._configs.get(request.organization_id)
        if organization is None or config is None:
            raise NotFound()
        sources: list[SourceRef] = []
        if request.context is not None:
            passages = (
                [PromptPassage(text=request.context, title="Provided context")]
                if request.context.strip()
                else []
            )
        else:
            hits = [
                h
                for h in await self._search(organization.id, text, config.top_k)
                if h.score >= config.min_score
            ]
            built = await self._context.from_hits(organization.id, hits, 2000)
            passages = [PromptPassage(text=p, title=s.title, entry_id=s.entry_id) for s, p in built.passages]
            sources = [SourceRef(s.entry_id, s.title, s.score) for s in built.sources]
        history = [
            ModelMessage("assistant" if role == "assistant" else "user", content)
            for role, content in request.history
        ]
        question = ChatMessage(
            uuid.uuid4(), uuid.uuid4(), organization.id, MessageRole.USER, text, self._clock.now()
        )
        prompt = (
            self._prompts.build(persona_of(config, organization.name), text, passages, history)
            if passages
            else None
        )
        plan = AnswerPlan(
            session_id=question.session_id,
            organization_id=organization.id,
            question=question,
            fallback_message=config.fallback_for(guess_language(text)),
            temperature=config.temperature,
            max_tokens=config.max_answer_tokens,
            started=started,
            prompt=prompt.messages if prompt else None,
            sources=sources,
            prompt_tokens=prompt.prompt_tokens if prompt else 0,
        )
        return await collect(self._produce(plan))
