"""chat sessions, messages and feedback

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 21:48:40.003333
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

# Autogenerate renders advanced-alchemy and pgvector types with an ``sa.`` prefix.
sa.GUID = GUID
sa.DateTimeUTC = DateTimeUTC
sa.Vector = Vector
sa.VECTOR = Vector

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column(
            "visitor",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_chat_sessions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("token_hash", name="uq_chat_sessions_token"),
    )
    op.create_index(
        "ix_chat_sessions_org_created", "chat_sessions", ["organization_id", "created_at"], unique=False
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=False),
        sa.Column("session_id", sa.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "sources",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("reply_to", sa.GUID(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("first_token_ms", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_chat_messages_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_messages_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(
        "ix_chat_messages_org_created", "chat_messages", ["organization_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_chat_messages_org_outcome_created",
        "chat_messages",
        ["organization_id", "outcome", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_chat_messages_session_created", "chat_messages", ["session_id", "created_at"], unique=False
    )
    op.create_table(
        "chat_feedback",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=False),
        sa.Column("session_id", sa.GUID(length=16), nullable=False),
        sa.Column("message_id", sa.GUID(length=16), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_feedback_message_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_chat_feedback_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_feedback_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_feedback")),
    )
    op.create_index(
        "ix_chat_feedback_org_created", "chat_feedback", ["organization_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_chat_feedback_session_id"), "chat_feedback", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_feedback_session_id"), table_name="chat_feedback")
    op.drop_index("ix_chat_feedback_org_created", table_name="chat_feedback")
    op.drop_table("chat_feedback")
    op.drop_index("ix_chat_messages_session_created", table_name="chat_messages")
    op.drop_index("ix_chat_messages_org_outcome_created", table_name="chat_messages")
    op.drop_index("ix_chat_messages_org_created", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_chat_sessions_org_created", table_name="chat_sessions")
    op.drop_table("chat_sessions")
