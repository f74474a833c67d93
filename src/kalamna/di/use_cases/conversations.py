"""Conversations: a reply's whole life (replies in flight), handover, the staff inbox, live events and
the waiting-customer notices."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from kalamna.application.conversations.notify import NotifyWaitingStaff, WaitingNotifier
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


class ConversationUseCaseProvider(Provider):
    scope = Scope.REQUEST

    @provide(scope=Scope.APP)
    def in_flight(self, settings: Settings) -> RepliesInFlight:
        """The replies being produced, drained on shutdown within ``reply_drain_s``."""
        return RepliesInFlight(grace_s=settings.reply_drain_s)

    notifier = provide(WaitingNotifier, scope=Scope.APP)
    runner = provide(ReplyRunner, scope=Scope.APP)
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
    )
