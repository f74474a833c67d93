"""Section 6 of the contract: internal RAG and pipeline endpoints (internal token or superuser)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, Response, post
from litestar.params import Body

from kalamna.application.auth.principal import AuthenticateAccessToken
from kalamna.application.chat.generate import GenerateAnswer, GenerateRequest
from kalamna.application.knowledge.ingestion import ChunkEntry, EmbedEntry
from kalamna.application.knowledge.rebuild import RebuildKnowledge
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge
from kalamna.config import Settings
from kalamna.domain.errors import Forbidden, LlmUnavailable, NotAuthenticated
from kalamna.web.schemas import SourceOut
from kalamna.web.security import bearer_token

GENERATE_UNAVAILABLE = "The answer service is unavailable; nothing was stored. Try again shortly."

Query = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


async def require_internal(
    request: Request[Any, Any, Any], settings: Settings, authenticate: AuthenticateAccessToken
) -> None:
    token = request.headers.get("x-internal-token")
    if token is not None:
        expected = settings.internal_token or ""
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return
        raise NotAuthenticated("The internal token is not valid.")
    principal = await authenticate(bearer_token(request))
    if not principal.is_superuser:
        raise Forbidden()


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    entry_id: UUID


class ChunkOut(msgspec.Struct):
    entry_id: UUID
    chunk_count: int
    token_count: int
    outcome: str


class EmbedOut(msgspec.Struct):
    entry_id: UUID
    embedded: int
    embedding_model: str


class RebuildIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: UUID | None = None
    entry_id: UUID | None = None


class QueuedOut(msgspec.Struct):
    queued: int


class SearchIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: UUID
    query: Query
    top_k: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5


class SearchResultOut(msgspec.Struct):
    chunk_id: UUID
    entry_id: UUID
    title: str
    content: str
    score: float


class SearchOut(msgspec.Struct):
    results: list[SearchResultOut]


class ContextIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: UUID
    query: Query
    max_tokens: Annotated[int, msgspec.Meta(ge=50, le=16000)] = 1500


class ContextOut(msgspec.Struct):
    context: str
    sources: list[SourceOut]
    token_count: int


class InternalController(Controller):
    path = "/internal"
    tags = ["internal"]

    @post("/kb/chunk", status_code=200, summary="Chunk an entry now (replaces its chunks)")
    @inject
    async def chunk(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[EntryIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        chunk: FromDishka[ChunkEntry],
    ) -> ChunkOut:
        await require_internal(request, settings, authenticate)
        report = await chunk(data.entry_id)
        return ChunkOut(report.entry_id, report.chunk_count, report.token_count, report.outcome.value)

    @post("/kb/embed", status_code=200, summary="Embed an entry's chunks that lack a current vector")
    @inject
    async def embed(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[EntryIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        embed: FromDishka[EmbedEntry],
    ) -> EmbedOut:
        await require_internal(request, settings, authenticate)
        report = await embed(data.entry_id)
        return EmbedOut(report.entry_id, report.embedded, report.embedding_model)

    @post(
        "/kb/rebuild",
        status_code=202,
        summary="Queue re-ingestion of an entry, an organization or everything",
    )
    @inject
    async def rebuild(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[RebuildIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        rebuild: FromDishka[RebuildKnowledge],
    ) -> Response[QueuedOut]:
        await require_internal(request, settings, authenticate)
        queued = await rebuild(organization_id=data.organization_id, entry_id=data.entry_id)
        return Response(QueuedOut(queued), status_code=202)

    @post("/ai/rag/search", status_code=200, summary="Hybrid search in one organization's knowledge")
    @inject
    async def search(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[SearchIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        search: FromDishka[SearchKnowledge],
    ) -> SearchOut:
        await require_internal(request, settings, authenticate)
        hits = await search(data.organization_id, data.query, data.top_k)
        return SearchOut([SearchResultOut(h.chunk_id, h.entry_id, h.title, h.content, h.score) for h in hits])

    @post("/ai/rag/context", status_code=200, summary="Context for a question, within a token budget")
    @inject
    async def context(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ContextIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        build: FromDishka[BuildContext],
    ) -> ContextOut:
        await require_internal(request, settings, authenticate)
        built = await build(data.organization_id, data.query, data.max_tokens)
        return ContextOut(
            built.context, [SourceOut(s.entry_id, s.title, s.score) for s in built.sources], built.token_count
        )


class HistoryItemIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["user", "assistant"]
    content: Annotated[str, msgspec.Meta(max_length=8000)]


class GenerateIn(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: UUID
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    context: Annotated[str, msgspec.Meta(max_length=64000)] | None = None
    history: Annotated[list[HistoryItemIn], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)


class UsageOut(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int


class GenerateOut(msgspec.Struct):
    reply: str
    sources: list[SourceOut]
    model: str | None
    usage: UsageOut
    outcome: str


class GenerateController(Controller):
    path = "/internal/ai"
    tags = ["internal"]

    @post("/generate", status_code=200, summary="Run the answering pipeline on a message (nothing stored)")
    @inject
    async def generate(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[GenerateIn, Body()],
        settings: FromDishka[Settings],
        authenticate: FromDishka[AuthenticateAccessToken],
        generate: FromDishka[GenerateAnswer],
    ) -> GenerateOut:
        await require_internal(request, settings, authenticate)
        try:
            reply = await generate(
                GenerateRequest(
                    organization_id=data.organization_id,
                    message=data.message,
                    context=data.context,
                    history=[(h.role, h.content) for h in data.history],
                )
            )
        except LlmUnavailable as exc:  # the default wording promises a kept message: nothing is kept here
            raise LlmUnavailable(GENERATE_UNAVAILABLE) from exc
        return GenerateOut(
            reply=reply.text,
            sources=[SourceOut(s.entry_id, s.title, s.score) for s in reply.sources],
            model=reply.model,
            usage=UsageOut(reply.usage.prompt_tokens, reply.usage.completion_tokens),
            outcome=reply.outcome.value,
        )
