"""human handover: conversation mode and assignment, agent authors, message search, handovers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:10:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

sa.GUID = GUID
sa.DateTimeUTC = DateTimeUTC

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "bot_configs",
        sa.Column(
            "handover",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "chat_sessions", sa.Column("mode", sa.String(8), server_default=sa.text("'bot'"), nullable=False)
    )
    op.add_column("chat_sessions", sa.Column("assigned_to", sa.GUID(length=16), nullable=True))
    op.add_column("chat_sessions", sa.Column("handover_reason", sa.String(500), nullable=True))
    op.add_column("chat_sessions", sa.Column("waiting_since", sa.DateTimeUTC(timezone=True), nullable=True))
    op.add_column(
        "chat_sessions",
        sa.Column("fallbacks_in_row", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("chat_sessions", sa.Column("last_message_at", sa.DateTimeUTC(timezone=True), nullable=True))
    op.add_column(
        "chat_sessions", sa.Column("staff_notified_at", sa.DateTimeUTC(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_chat_sessions_assigned_to_employees"),
        "chat_sessions",
        "employees",
        ["assigned_to"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(
        "UPDATE chat_sessions s SET last_message_at = "
        "(SELECT max(m.created_at) FROM chat_messages m WHERE m.session_id = s.id)"
    )
    op.create_index(
        "ix_chat_sessions_org_last_message",
        "chat_sessions",
        ["organization_id", "last_message_at"],
        unique=False,
    )

    op.add_column("chat_messages", sa.Column("author_id", sa.GUID(length=16), nullable=True))
    op.add_column("chat_messages", sa.Column("author_name", sa.String(200), nullable=True))
    op.add_column(
        "chat_messages", sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False)
    )
    op.execute("UPDATE chat_messages SET search_text = lower(content)")
    op.add_column(
        "chat_messages",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', search_text)", persisted=True),
            nullable=True,
        ),
    )
    op.create_foreign_key(
        op.f("fk_chat_messages_author_id_employees"),
        "chat_messages",
        "employees",
        ["author_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_chat_messages_search", "chat_messages", ["search_vector"], unique=False, postgresql_using="gin"
    )

    op.create_table(
        "chat_handovers",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=False),
        sa.Column("session_id", sa.GUID(length=16), nullable=False),
        sa.Column("question_id", sa.GUID(length=16), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_chat_handovers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_handovers_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_handovers_question_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_handovers")),
    )
    op.create_index(
        "ix_chat_handovers_org_requested", "chat_handovers", ["organization_id", "requested_at"], unique=False
    )
    op.create_index(op.f("ix_chat_handovers_session_id"), "chat_handovers", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_handovers_session_id"), table_name="chat_handovers")
    op.drop_index("ix_chat_handovers_org_requested", table_name="chat_handovers")
    op.drop_table("chat_handovers")
    op.drop_index("ix_chat_messages_search", table_name="chat_messages", postgresql_using="gin")
    op.drop_constraint(op.f("fk_chat_messages_author_id_employees"), "chat_messages", type_="foreignkey")
    for column in ("search_vector", "search_text", "author_name", "author_id"):
        op.drop_column("chat_messages", column)
    op.drop_index("ix_chat_sessions_org_last_message", table_name="chat_sessions")
    op.drop_constraint(op.f("fk_chat_sessions_assigned_to_employees"), "chat_sessions", type_="foreignkey")
    for column in (
        "staff_notified_at",
        "last_message_at",
        "fallbacks_in_row",
        "waiting_since",
        "handover_reason",
        "assigned_to",
        "mode",
    ):
        op.drop_column("chat_sessions", column)
    op.drop_column("bot_configs", "handover")
