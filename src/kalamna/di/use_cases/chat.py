"""The widget's chat: sessions, messages, feedback and the answering pipeline."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from kalamna.application.chat.answering import PrepareAnswer, ProduceReply, SaveReply
from kalamna.application.chat.generate import GenerateAnswer
from kalamna.application.chat.prompt import PromptBuilder
from kalamna.application.chat.sessions import (
    CloseSession,
    FindSession,
    LeaveFeedback,
    ListMessages,
    StartSession,
    WidgetAccess,
)
from kalamna.ports.ai import TokenCounter


class ChatUseCaseProvider(Provider):
    scope = Scope.REQUEST

    @provide(scope=Scope.APP)
    def prompt_builder(self, tokens: TokenCounter) -> PromptBuilder:
        return PromptBuilder(tokens)

    produce_reply = provide(ProduceReply, scope=Scope.APP)  # no request state: shared by every reply
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
    )
