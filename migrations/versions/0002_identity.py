"""identity: organizations, employees, tokens, sessions, bot configs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:10:28.957220
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

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=120), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("country", sa.String(length=80), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("default_language", sa.String(length=35), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_index(op.f("ix_organizations_status"), "organizations", ["status"], unique=False)
    op.create_table(
        "bot_configs",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=False),
        sa.Column("bot_name", sa.String(length=80), nullable=False),
        sa.Column("welcome_message", sa.Text(), nullable=False),
        sa.Column("tone", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("fallback_message", sa.Text(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("max_answer_tokens", sa.Integer(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column(
            "suggested_questions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "widget",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_bot_configs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_configs")),
    )
    op.create_index(op.f("ix_bot_configs_organization_id"), "bot_configs", ["organization_id"], unique=True)
    op.create_table(
        "employees",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("organization_id", sa.GUID(length=16), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("last_login_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("email_verified_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_employees_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("email", name="uq_employees_email"),
    )
    op.create_index(op.f("ix_employees_organization_id"), "employees", ["organization_id"], unique=False)
    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.GUID(length=16), nullable=True),
        sa.Column("invitation_id", sa.GUID(length=16), nullable=True),
        sa.Column("expires_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_one_time_tokens_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name="uq_one_time_tokens_hash"),
    )
    op.create_index(
        "ix_one_time_tokens_employee_purpose", "one_time_tokens", ["employee_id", "purpose"], unique=False
    )
    op.create_index(
        op.f("ix_one_time_tokens_invitation_id"), "one_time_tokens", ["invitation_id"], unique=False
    )
    op.create_table(
        "refresh_sessions",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("family_id", sa.GUID(length=16), nullable=False),
        sa.Column("employee_id", sa.GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.GUID(length=16), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_refresh_sessions_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_sessions")),
        sa.UniqueConstraint("token_hash", name="uq_refresh_sessions_hash"),
    )
    op.create_index(
        op.f("ix_refresh_sessions_employee_id"), "refresh_sessions", ["employee_id"], unique=False
    )
    op.create_index(op.f("ix_refresh_sessions_family_id"), "refresh_sessions", ["family_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refresh_sessions_family_id"), table_name="refresh_sessions")
    op.drop_index(op.f("ix_refresh_sessions_employee_id"), table_name="refresh_sessions")
    op.drop_table("refresh_sessions")
    op.drop_index(op.f("ix_one_time_tokens_invitation_id"), table_name="one_time_tokens")
    op.drop_index("ix_one_time_tokens_employee_purpose", table_name="one_time_tokens")
    op.drop_table("one_time_tokens")
    op.drop_index(op.f("ix_employees_organization_id"), table_name="employees")
    op.drop_table("employees")
    op.drop_index(op.f("ix_bot_configs_organization_id"), table_name="bot_configs")
    op.drop_table("bot_configs")
    op.drop_index(op.f("ix_organizations_status"), table_name="organizations")
    op.drop_table("organizations")
