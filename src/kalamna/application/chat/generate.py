"""``POST /internal/ai/generate``: the answering pipeline on a given message, context and history,
without a conversation (nothing is stored)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from uuid import UUID

from kalamna.application.chat.answering import (
    AnswerPolicy,
    ProducedReply,
    ProduceReply,
    collect,
    ground,
    persona_of,
    plan_of,
)
from kalamna.application.chat.prompt import PromptBuilder, PromptPassage
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge
from kalamna.domain.ai import ChatMessage as ModelMessage
from kalamna.domain.chat import ChatMessage, MessageRole, SourceRef, check_message
from kalamna.domain.errors import NotFound
from kalamna.ports.repositories import BotConfigRepository, OrganizationRepository
from kalamna.ports.security import Clock


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    organization_id: UUID
    message: str
    context: str | None
    history: list[tuple[str, str]]


class GenerateAnswer:
    """Plans like ``PrepareAnswer`` (same grounding, budget and fallback), from the request's own
    context and history instead of a stored conversation."""

    def __init__(
        self,
        organizations: OrganizationRepository,
        configs: BotConfigRepository,
        search: SearchKnowledge,
        context: BuildContext,
        prompts: PromptBuilder,
        produce: ProduceReply,
        clock: Clock,
        policy: AnswerPolicy,
    ) -> None:
        self._organizations = organizations
        self._configs = configs
        self._search = search
        self._context = context
        self._prompts = prompts
        self._produce = produce
        self._clock = clock
        self._policy = policy

    async def __call__(self, request: GenerateRequest) -> ProducedReply:
        started = time.perf_counter()
        text = check_message(request.message)
        organization = await self._organizations.get(request.organization_id)
        config = await self._configs.get(request.organization_id)
        if organization is None or config is None:
            raise NotFound()
        sources: list[SourceRef] = []
        passages: list[PromptPassage] = []
        if request.context is not None:
            if request.context.strip():
                passages = [PromptPassage(text=request.context, title="Provided context")]
        else:
            found = await self._search(organization.id, text, config.top_k)
            grounded = await ground(
                self._context, organization.id, found, config.min_score, self._policy.context_tokens
            )
            passages, sources = grounded or ([], [])
        history = [
            ModelMessage("assistant" if role == "assistant" else "user", content)
            for role, content in request.history
        ]
        question = ChatMessage(
            uuid.uuid4(), uuid.uuid4(), organization.id, MessageRole.USER, text, self._clock.now()
        )
        if not passages:
            return await collect(self._produce(plan_of(question, config, started)))
        prompt = self._prompts.build(persona_of(config, organization.name), text, passages, history)
        return await collect(self._produce(plan_of(question, config, started, prompt, sources)))
