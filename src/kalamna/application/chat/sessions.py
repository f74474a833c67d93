"""Widget conversations: start, authenticate, read, close, rate."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from kalamna.application.credentials import AuthenticateApiKey
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, Feedback, SessionStatus, check_rating
from kalamna.domain.errors import InvalidInput, NotAuthenticated, NotFound, OrganizationSuspended, RateLimited
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.chat import ChatRepository
from kalamna.ports.repositories import BotConfigRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock, RateLimiter, SecretTokens
from kalamna.ports.webhooks import WebhookEvents


@dataclass(frozen=True, slots=True)
class StartedSession:
    session: ChatSession
    token: str
    config: BotConfig


class WidgetAccess:
    """Resolves the API key to its (active) organization and that organization's bot config."""

    def __init__(self, authenticate: AuthenticateApiKey, configs: BotConfigRepository) -> None:
        self._authenticate = authenticate
        self._configs = configs

    async def __call__(self, raw_key: str) -> tuple[Organization, BotConfig]:
        organization = await self._authenticate(raw_key)
        config = await self._configs.get(organization.id)
        if config is None:
            raise NotFound()
        return organization, config


class StartSession:
    def __init__(self, chats: ChatRepository, secrets: SecretTokens, uow: UnitOfWork, clock: Clock) -> None:
        self._chats = chats
        self._secrets = secrets
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, organization: Organization, config: BotConfig, visitor: dict[str, str], metadata: dict[str, str]
    ) -> StartedSession:
        now = self._clock.now()
        token = self._secrets.new()
        session = ChatSession(
            id=new_id(),
            organization_id=organization.id,
            token_hash=self._secrets.digest(token),
            status=SessionStatus.OPEN,
            created_at=now,
            updated_at=now,
            visitor=visitor,
            metadata=metadata,
        )
        await self._chats.add_session(session)
        await self._uow.commit()
        return StartedSession(session=session, token=token, config=config)


class FindSession:
    """Another session's token, or another organization's key, finds nothing: 404."""

    def __init__(self, chats: ChatRepository, secrets: SecretTokens) -> None:
        self._chats = chats
        self._secrets = secrets

    async def __call__(self, organization_id: UUID, session_id: UUID, token: str) -> ChatSession:
        if not token:
            raise NotAuthenticated("Send the conversation's token as X-Session-Token.")
        session = await self._chats.get_session(organization_id, session_id, self._secrets.digest(token))
        if session is None:
            raise NotFound("Conversation not found.")
        return session

    async def by_token(self, session_id: UUID, token: str) -> ChatSession:
        if not token:
            raise NotAuthenticated("Send the conversation's token as X-Session-Token.")
        session = await self._chats.get_session_by_token(session_id, self._secrets.digest(token))
        if session is None:
            raise NotFound("Conversation not found.")
        return session


class ListMessages:
    def __init__(self, chats: ChatRepository) -> None:
        self._chats = chats

    async def __call__(self, session: ChatSession, page: PageRequest) -> Page[ChatMessage]:
        return await self._chats.messages(session.organization_id, session.id, page)


class CloseSession:
    def __init__(self, chats: ChatRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._chats = chats
        self._uow = uow
        self._clock = clock

    async def __call__(self, session: ChatSession) -> ChatSession:
        session.close(self._clock.now())
        await self._chats.save_session(session)
        await self._uow.commit()
        return session


@dataclass(frozen=True, slots=True)
class FeedbackPolicy:
    """At most ``count`` ratings per conversation per ``window_s`` (feedback feeds analytics)."""

    count: int = 10
    window_s: int = 60


class LeaveFeedback:
    def __init__(
        self,
        chats: ChatRepository,
        organizations: OrganizationRepository,
        limiter: RateLimiter,
        policy: FeedbackPolicy,
        uow: UnitOfWork,
        clock: Clock,
        events: WebhookEvents | None = None,
    ) -> None:
        self._chats = chats
        self._organizations = organizations
        self._limiter = limiter
        self._policy = policy
        self._uow = uow
        self._clock = clock
        self._events = events

    async def __call__(
        self, session: ChatSession, rating: int, comment: str | None, message_id: UUID | None
    ) -> Feedback:
        organization = await self._organizations.get(session.organization_id)
        if organization is None or organization.status is not OrganizationStatus.ACTIVE:
            raise OrganizationSuspended()
        check_rating(rating)
        if message_id is not None and not await self._chats.message_in_session(
            session.organization_id, session.id, message_id
        ):
            raise InvalidInput(
                "That message is not part of this conversation.", extra={"fields": [{"key": "message_id"}]}
            )
        decision = await self._limiter.hit(  # counts accepted ratings: they feed analytics
            f"widget-feedback:{session.id}", limit=self._policy.count, window_s=self._policy.window_s
        )
        if not decision.allowed:
            raise RateLimited(
                decision.reset_after_s,
                budget=(decision.limit, decision.remaining, decision.reset_after_s),
            )
        feedback = Feedback(
            id=new_id(),
            session_id=session.id,
            organization_id=session.organization_id,
            rating=rating,
            created_at=self._clock.now(),
            comment=(comment or "").strip() or None,
            message_id=message_id,
        )
        await self._chats.add_feedback(feedback)
        await self._uow.commit()
        if self._events is not None:
            await self._events.publish(
                feedback.organization_id,
                WebhookEvent.FEEDBACK_CREATED,
                {
                    "feedback_id": str(feedback.id),
                    "session_id": str(feedback.session_id),
                    "message_id": str(feedback.message_id) if feedback.message_id else None,
                    "rating": feedback.rating,
                    "comment": feedback.comment,
                },
            )
        return feedback
