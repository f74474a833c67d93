"""Widget conversations: start, authenticate, read, close, rate."""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from kalamna.application.credentials import LAST_USED_EVERY_S
from kalamna.domain.api_keys import KEY_PREFIX
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, Feedback, SessionStatus, check_rating
from kalamna.domain.errors import InvalidInput, NotAuthenticated, NotFound, OrganizationSuspended, RateLimited
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.chat import ChatRepository
from kalamna.ports.repositories import ApiCredentialRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock, RateLimitDecision, RateLimiter, SecretTokens
from kalamna.ports.webhooks import WebhookEvents
from kalamna.ports.widget import Budget, GateResult, WidgetCredential, WidgetDirectory, WidgetGate

ORGANIZATION = "{organization}"  # in a budget's bucket name: replaced by the key's organization id


@dataclass(frozen=True, slots=True)
class StartedSession:
    session: ChatSession
    token: str
    config: BotConfig


@dataclass(frozen=True, slots=True)
class WidgetPass:
    """A widget request let in: its organization, bot config and the budgets it was counted against."""

    organization: Organization
    config: BotConfig
    decisions: Sequence[RateLimitDecision]


@dataclass(frozen=True, slots=True)
class _Cached:
    credential: WidgetCredential
    config: BotConfig
    generation: str | None  # None: loaded before its generation was read; revalidate on next use
    loaded_at: float


class WidgetAccessCache:
    """Per-process copies of (key digest → organization, bot config), keyed by the digest of the
    key the caller presented (so an entry can only serve the holder of that exact key). An entry is
    used only while its organization's generation (``WidgetGate``, read in the same round trip as
    the rate limits) is unchanged: rotating or revoking a key, suspending the organization, or
    changing its profile or bot config changes the generation, so every process reloads on its next
    request. ``max_age_s`` bounds the damage of a lost generation change (Redis down right after a
    commit)."""

    def __init__(self, max_entries: int = 10_000, max_age_s: float = 60.0) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._entries: dict[str, _Cached] = {}

    def get(self, digest: str) -> _Cached | None:
        entry = self._entries.get(digest)
        if entry is not None and time.monotonic() - entry.loaded_at > self.max_age_s:
            self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, entry: _Cached) -> None:
        self._entries.pop(digest, None)
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest
        self._entries[digest] = entry

    def drop(self, digest: str) -> None:
        self._entries.pop(digest, None)


class WidgetAccess:
    """Resolves the API key to its (active) organization and that organization's bot config, and
    counts the request's rate-limit budgets, in one Redis round trip when this process has a valid
    copy (``WidgetAccessCache``) and one PostgreSQL query more when it has not. A revoked or
    rotated key, or a suspended organization, is refused on the very next request in every process.

    ``last_used_at`` is written at most once a minute per key, whatever the traffic (the gate's
    throttle decides which request writes)."""

    def __init__(
        self,
        directory: WidgetDirectory,
        gate: WidgetGate,
        cache: WidgetAccessCache,
        credentials: ApiCredentialRepository,
        secrets: SecretTokens,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._directory = directory
        self._gate = gate
        self._cache = cache
        self._credentials = credentials
        self._secrets = secrets
        self._uow = uow
        self._clock = clock

    async def __call__(self, raw_key: str) -> tuple[Organization, BotConfig]:
        entered = await self.enter(raw_key)
        return entered.organization, entered.config

    async def enter(self, raw_key: str, budgets: Sequence[Budget] = ()) -> WidgetPass:
        """Raises ``NotAuthenticated`` (no such active key, or the organization is not active),
        ``NotFound`` (no bot config) or ``RateLimited`` (a budget is spent)."""
        if not raw_key.startswith(KEY_PREFIX):
            raise NotAuthenticated("A valid API key is required.")
        digest = self._secrets.digest(raw_key)
        cached = self._cache.get(digest)
        if cached is None:
            credential, config = await self._load(digest)
            result = await self._enter(credential, budgets)
            self._cache.put(digest, _Cached(credential, config, None, time.monotonic()))
        else:
            credential, config = cached.credential, cached.config
            result = await self._enter(credential, budgets)
            if cached.generation != result.generation:
                # Changed since (or loaded before its generation was known): read again. The
                # generation was read first, so a change committed after this load changes it again.
                credential, config = await self._load(digest)
                self._cache.put(digest, _Cached(credential, config, result.generation, time.monotonic()))
        if result.first_use:
            await self._credentials.touch(credential.credential_id, self._clock.now())
            await self._uow.commit()
        for decision in result.decisions:
            if not decision.allowed:
                raise RateLimited(
                    decision.reset_after_s,
                    budget=(decision.limit, decision.remaining, decision.reset_after_s),
                )
        return WidgetPass(credential.organization, config, result.decisions)

    async def _enter(self, credential: WidgetCredential, budgets: Sequence[Budget]) -> GateResult:
        organization_id = credential.organization.id
        resolved = [
            Budget(b.bucket.replace(ORGANIZATION, str(organization_id)), b.limit, b.window_s) for b in budgets
        ]
        return await self._gate.enter(
            organization_id, resolved, f"api-key-used:{credential.credential_id}", LAST_USED_EVERY_S
        )

    async def _load(self, digest: str) -> tuple[WidgetCredential, BotConfig]:
        credential = await self._directory.lookup(digest)
        # The lookup is by digest; the comparison below is constant-time all the same.
        if credential is None or not hmac.compare_digest(credential.key_hash, digest):
            self._cache.drop(digest)
            raise NotAuthenticated("A valid API key is required.")
        await self._uow.rollback()  # a read: give the connection back at once
        if credential.organization.status is not OrganizationStatus.ACTIVE:
            self._cache.drop(digest)
            raise NotAuthenticated("A valid API key is required.")
        if credential.config is None:
            self._cache.drop(digest)
            raise NotFound()
        return credential, credential.config


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

    async def __call__(
        self, organization_id: UUID, session_id: UUID, token: str, *, lock: bool = False
    ) -> ChatSession:
        """``lock``: the session's row stays locked until the request's transaction ends."""
        if not token:
            raise NotAuthenticated("Send the conversation's token as X-Session-Token.")
        digest = self._secrets.digest(token)
        session = await self._chats.get_session(organization_id, session_id, digest, lock=lock)
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
