"""Policies, limits and typed settings of the use cases, read once from ``Settings`` (APP scope)."""

from __future__ import annotations

from datetime import timedelta

from dishka import Provider, Scope, provide

from kalamna.application.auth.attempts import AttemptPolicy
from kalamna.application.auth.emails import Links
from kalamna.application.auth.passwords import ResetPolicy
from kalamna.application.auth.registration import VerificationPolicy
from kalamna.application.auth.sessions import SessionPolicy
from kalamna.application.chat.answering import AnswerPolicy
from kalamna.application.chat.sessions import FeedbackPolicy
from kalamna.application.conversations.notify import NoticePolicy
from kalamna.application.knowledge.reconcile import ReconcilePolicy
from kalamna.application.knowledge.retrieval import RetrievalSettings
from kalamna.application.team import InvitationPolicy
from kalamna.config import Settings, parse_rate
from kalamna.domain.webhooks import RetrySchedule
from kalamna.ports.ai import Embedder


class PolicyProvider(Provider):
    scope = Scope.APP

    @provide
    def links(self, settings: Settings) -> Links:
        return Links(public_url=settings.base_url, dashboard_url=settings.dashboard_url or settings.base_url)

    @provide
    def attempt_policy(self, settings: Settings) -> AttemptPolicy:
        count, window_s = parse_rate(settings.rate_limit_login_failures)
        return AttemptPolicy(limit=count, window_s=window_s)

    @provide
    def session_policy(self, settings: Settings) -> SessionPolicy:
        return SessionPolicy(refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s))

    @provide
    def verification_policy(self, settings: Settings) -> VerificationPolicy:
        return VerificationPolicy(ttl=timedelta(seconds=settings.verification_token_ttl_s))

    @provide
    def reset_policy(self, settings: Settings) -> ResetPolicy:
        return ResetPolicy(ttl=timedelta(seconds=settings.reset_token_ttl_s))

    @provide
    def invitation_policy(self, settings: Settings) -> InvitationPolicy:
        return InvitationPolicy(ttl=timedelta(seconds=settings.invitation_ttl_s))

    @provide
    def retrieval_settings(self, settings: Settings, embedder: Embedder) -> RetrievalSettings:
        floor = settings.embedding_similarity_floor
        if floor is None:
            floor = 0.1 if settings.embedder_is_openai else 0.75
        return RetrievalSettings(similarity_floor=floor)

    @provide
    def reconcile_policy(self) -> ReconcilePolicy:
        return ReconcilePolicy()

    @provide
    def answer_policy(self, settings: Settings) -> AnswerPolicy:
        return AnswerPolicy(fallback_on_llm_error=settings.llm_fallback_on_error)

    @provide
    def feedback_policy(self, settings: Settings) -> FeedbackPolicy:
        count, window_s = parse_rate(settings.rate_limit_widget_feedback)
        return FeedbackPolicy(count=count, window_s=window_s)

    @provide
    def notice_policy(self, settings: Settings) -> NoticePolicy:
        return NoticePolicy(
            per_hour=settings.handover_notice_per_hour,
            dashboard_url=settings.dashboard_url or settings.base_url,
            presence_ttl_s=max(30.0, 3 * settings.events_keepalive_s),
        )

    @provide
    def retry_schedule(self, settings: Settings) -> RetrySchedule:
        """Webhook delivery retries."""
        return RetrySchedule(
            max_attempts=settings.webhook_max_attempts,
            base_s=settings.webhook_retry_base_s,
            factor=settings.webhook_retry_factor,
        )
