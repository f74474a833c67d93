"""Every table of the application, imported by Alembic's env to autogenerate and compare.

Keys are UUIDv7 made by the core (``domain.ids``); ``created_at``/``updated_at`` come from the
advanced-alchemy base. Tenant tables carry an indexed ``organization_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB as JsonB
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from kalamna.adapters.postgres.base import Base
from kalamna.domain import limits


class OrganizationRow(Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(limits.ORGANIZATION_NAME_MAX))
    industry: Mapped[str | None] = mapped_column(String(limits.INDUSTRY_MAX))
    website: Mapped[str | None] = mapped_column(String(limits.WEBSITE_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(limits.COUNTRY_MAX))
    timezone: Mapped[str | None] = mapped_column(String(limits.TIMEZONE_MAX))
    default_language: Mapped[str | None] = mapped_column(String(limits.LANGUAGE_TAG_MAX))
    status: Mapped[str] = mapped_column(String(16), index=True)


class EmployeeRow(Base):
    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("email", name="uq_employees_email"),)

    organization_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class OneTimeTokenRow(Base):
    __tablename__ = "one_time_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_one_time_tokens_hash"),
        Index("ix_one_time_tokens_employee_purpose", "employee_id", "purpose"),
    )

    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    invitation_id: Mapped[UUID | None] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class RefreshSessionRow(Base):
    __tablename__ = "refresh_sessions"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_refresh_sessions_hash"),)

    family_id: Mapped[UUID] = mapped_column(index=True)
    employee_id: Mapped[UUID] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    replaced_by: Mapped[UUID | None] = mapped_column()


class BotConfigRow(Base):
    __tablename__ = "bot_configs"

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True, index=True
    )
    bot_name: Mapped[str] = mapped_column(String(80))
    welcome_message: Mapped[str] = mapped_column(Text)
    tone: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(35))
    instructions: Mapped[str] = mapped_column(Text)
    fallback_message: Mapped[str] = mapped_column(Text)
    temperature: Mapped[float] = mapped_column(Float)
    max_answer_tokens: Mapped[int] = mapped_column(Integer)
    top_k: Mapped[int] = mapped_column(Integer)
    min_score: Mapped[float] = mapped_column(Float)
    suggested_questions: Mapped[list[str]] = mapped_column(JsonB, server_default=text("'[]'::jsonb"))
    widget: Mapped[dict[str, Any]] = mapped_column(JsonB, server_default=text("'{}'::jsonb"))
    handover: Mapped[dict[str, Any]] = mapped_column(JsonB, server_default=text("'{}'::jsonb"))
    fallback_messages: Mapped[dict[str, str]] = mapped_column(JsonB, server_default=text("'{}'::jsonb"))


class InvitationRow(Base):
    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_org_email", "organization_id", "email"),)

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ApiCredentialRow(Base):
    __tablename__ = "api_credentials"
    __table_args__ = (UniqueConstraint("key_hash", name="uq_api_credentials_hash"),)

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64))
    display_prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class KnowledgeEntryRow(Base):
    __tablename__ = "knowledge_entries"
    __table_args__ = (
        Index("ix_knowledge_entries_org_created", "organization_id", "created_at"),
        Index("ix_knowledge_entries_status_updated", "status", "updated_at"),
    )

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    source_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    blob_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))
    chunk_count: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)
    embedding_model: Mapped[str | None] = mapped_column(String(120))
    # Reliability (issue 16): re-queues by the reconciler, and when a transient failure is retried.
    ingest_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    retry_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class AccessRevocationRow(Base):
    """Durable revocations (source of truth; Redis is the fast path): a revoked access-token ``jti``
    (kind ``jti``) or a "not before" cut-off of an employee or organization (``employee``,
    ``organization``). A row matters only until ``expires_at``: no token it refuses can outlive it."""

    __tablename__ = "access_revocations"
    __table_args__ = (UniqueConstraint("kind", "subject", name="uq_access_revocations_kind_subject"),)

    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class KnowledgeChunkRow(Base):
    """``embedding`` has no fixed dimension so that models can change; each (model, dimension) gets
    its own partial HNSW index over ``embedding::vector(D)`` (see ``adapters.postgres.chunk_index``)."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        Index("ix_knowledge_chunks_org_model", "organization_id", "embedding_model"),
        Index("ix_knowledge_chunks_entry_position", "entry_id", "position"),
        Index("ix_knowledge_chunks_search", "search_vector", postgresql_using="gin"),
    )

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    entry_id: Mapped[UUID] = mapped_column(ForeignKey("knowledge_entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    token_count: Mapped[int] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', search_text)", persisted=True)
    )
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    embedding_model: Mapped[str | None] = mapped_column(String(120))


class ChatSessionRow(Base):
    __tablename__ = "chat_sessions"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_chat_sessions_token"),
        Index("ix_chat_sessions_org_created", "organization_id", "created_at"),
        Index("ix_chat_sessions_org_last_message", "organization_id", "last_message_at"),
    )

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    visitor: Mapped[dict[str, Any]] = mapped_column(JsonB, server_default=text("'{}'::jsonb"))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonB, server_default=text("'{}'::jsonb"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Human handover (migration 0009)
    mode: Mapped[str] = mapped_column(String(8), server_default=text("'bot'"))
    assigned_to: Mapped[UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    handover_reason: Mapped[str | None] = mapped_column(String(500))
    waiting_since: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    fallbacks_in_row: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    staff_notified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ChatMessageRow(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_session_created", "session_id", "created_at"),
        Index("ix_chat_messages_org_created", "organization_id", "created_at"),
        Index("ix_chat_messages_org_outcome_created", "organization_id", "outcome", "created_at"),
        Index("ix_chat_messages_search", "search_vector", postgresql_using="gin"),
    )

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    session_id: Mapped[UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, server_default=text("'[]'::jsonb"))
    reply_to: Mapped[UUID | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(120))
    prompt_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    first_token_ms: Mapped[int | None] = mapped_column(Integer)
    # Human handover (migration 0009): agent authors, and the folded text that staff search.
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    author_name: Mapped[str | None] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(Text, server_default=text("''"))
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', search_text)", persisted=True)
    )


class ChatFeedbackRow(Base):
    __tablename__ = "chat_feedback"
    __table_args__ = (Index("ix_chat_feedback_org_created", "organization_id", "created_at"),)

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    session_id: Mapped[UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL"), index=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class WebhookRow(Base):
    __tablename__ = "webhooks"

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JsonB)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    encrypted_secret: Mapped[str] = mapped_column(Text)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"),
        Index(
            "ix_webhook_deliveries_pending_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class MailOutboxRow(Base):
    """The transactional mail outbox: ``sealed`` is the encrypted message, dropped once sent."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),)

    kind: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ChatHandoverRow(Base):
    """One stay of a conversation away from the bot: asked for (or taken) → first agent message →
    released or closed. Analytics read the handover count and the time to a first human response."""

    __tablename__ = "chat_handovers"
    __table_args__ = (Index("ix_chat_handovers_org_requested", "organization_id", "requested_at"),)

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    session_id: Mapped[UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[UUID | None] = mapped_column(ForeignKey("chat_messages.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
