"""Dishka wiring of conversations and handover: the events port, replies in flight, use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide, provide_all
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalamna.adapters.cache.events import RedisConversationEvents
from kalamna.adapters.cache.presence import RedisStaffPresence
from kalamna.adapters.postgres.repositories.conversations import (
    SqlaChatTransactions,
    SqlaConversationRepository,
)
from kalamna.application.conversations.notify import NoticePolicy, NotifyWaitingStaff, WaitingNotifier
from kalamna.application.conversations.replies import RepliesInFlight, ReplyRunner, SendMessage
from kalamna.application.conversations.staff import (
    AssignConversation,
    CloseConversation,
    CustomerCloses,
    ExportConversations,
    GetConversation,
    ListConversations,
    ReleaseConversation,
    ReplyAsAgent,
    RequestHandover,
    WatchConversations,
)
from kalamna.config import Settings
from kalamna.ports.conversations import (
    ChatTransactions,
    ConversationEvents,
    ConversationRepository,
    StaffPresence,
)


class ConversationProvider(Provider):
    @provide(scope=Scope.APP)
    async def events(self, redis: Redis) -> AsyncIterator[ConversationEvents]:
        events = RedisConversationEvents(redis)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def in_flight(self, settings: Settings) -> RepliesInFlight:
        return RepliesInFlight(grace_s=settings.reply_drain_s)

    @provide(scope=Scope.APP)
    def transactions(self, factory: async_sessionmaker[AsyncSession]) -> ChatTransactions:
        return SqlaChatTransactions(factory)

    @provide(scope=Scope.APP)
    def presence(self, redis: Redis) -> StaffPresence:
        return RedisStaffPresence(redis)

    @provide(scope=Scope.APP)
    def notice_policy(self, settings: Settings) -> NoticePolicy:
        return NoticePolicy(
            per_hour=settings.handover_notice_per_hour,
            dashboard_url=settings.dashboard_url or settings.base_url,
            presence_ttl_s=max(30.0, 3 * settings.events_keepalive_s),
        )

    notifier = provide(WaitingNotifier, scope=Scope.APP)
    runner = provide(ReplyRunner, scope=Scope.APP)
    repository = provide(SqlaConversationRepository, provides=ConversationRepository, scope=Scope.REQUEST)
    use_cases = provide_all(
        SendMessage,
        RequestHandover,
        CustomerCloses,
        ListConversations,
        GetConversation,
        AssignConversation,
        ReplyAsAgent,
        ReleaseConversation,
        CloseConversation,
        ExportConversations,
        NotifyWaitingStaff,
        WatchConversations,
        scope=Scope.REQUEST,
    )
