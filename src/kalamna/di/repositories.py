"""PostgreSQL persistence: the unit of work, the repositories and the chunk index share the request's
database session (REQUEST scope); the transaction ports open sessions of their own (APP scope).
"""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalamna.adapters.postgres.analytics import SqlaAnalyticsRepository
from kalamna.adapters.postgres.chunk_index import PgChunkIndex
from kalamna.adapters.postgres.mail_outbox import MailSealer, SqlaMailOutbox
from kalamna.adapters.postgres.repositories.bot_config import SqlaBotConfigRepository
from kalamna.adapters.postgres.repositories.chat import SqlaChatRepository
from kalamna.adapters.postgres.repositories.conversations import (
    SqlaChatTransactions,
    SqlaConversationRepository,
)
from kalamna.adapters.postgres.repositories.identity import SqlaEmployeeRepository, SqlaOrganizationRepository
from kalamna.adapters.postgres.repositories.knowledge import SqlaKnowledgeRepository
from kalamna.adapters.postgres.repositories.team import SqlaApiCredentialRepository, SqlaInvitationRepository
from kalamna.adapters.postgres.repositories.tokens import (
    SqlaOneTimeTokenRepository,
    SqlaRefreshSessionRepository,
)
from kalamna.adapters.postgres.repositories.webhooks import SqlaWebhookRepository, SqlaWebhookTransactions
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.config import Settings
from kalamna.ports.ai import Embedder
from kalamna.ports.analytics import AnalyticsRepository
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import ChatTransactions, ConversationRepository
from kalamna.ports.knowledge import ChunkIndex, KnowledgeRepository
from kalamna.ports.mail import MailOutbox
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
from kalamna.ports.webhooks import WebhookRepository, WebhookTransactions


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
    knowledge = provide(SqlaKnowledgeRepository, provides=KnowledgeRepository)
    chats = provide(SqlaChatRepository, provides=ChatRepository)
    conversations = provide(SqlaConversationRepository, provides=ConversationRepository)
    analytics = provide(SqlaAnalyticsRepository, provides=AnalyticsRepository)
    webhooks = provide(SqlaWebhookRepository, provides=WebhookRepository)
    mail_outbox = provide(SqlaMailOutbox, provides=MailOutbox)

    @provide
    def chunk_index(self, session: AsyncSession, embedder: Embedder) -> ChunkIndex:
        return PgChunkIndex(session, embedder.dimensions)

    @provide(scope=Scope.APP)
    def mail_sealer(self, settings: Settings) -> MailSealer:
        """Seals the outbox's contents (the mail holds tokens)."""
        secret = settings.jwt_secret or settings.internal_token
        assert secret, "secrets must be resolved before the container starts"
        return MailSealer(secret)


class TransactionProvider(Provider):
    """Ports that open and commit transactions of their own, outside the request's session."""

    scope = Scope.APP

    @provide
    def chat_transactions(self, factory: async_sessionmaker[AsyncSession]) -> ChatTransactions:
        return SqlaChatTransactions(factory)

    @provide
    def webhook_transactions(self, factory: async_sessionmaker[AsyncSession]) -> WebhookTransactions:
        return SqlaWebhookTransactions(factory)
