"""reliability: durable revocations, ingestion attempts and retry schedule

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:50:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from pgvector.sqlalchemy import Vector

# Autogenerate renders advanced-alchemy and pgvector types with an ``sa.`` prefix.
sa.GUID = GUID
sa.DateTimeUTC = DateTimeUTC
sa.Vector = Vector
sa.VECTOR = Vector

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_revocations",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_revocations")),
        sa.UniqueConstraint("kind", "subject", name="uq_access_revocations_kind_subject"),
    )
    op.create_index(
        op.f("ix_access_revocations_expires_at"), "access_revocations", ["expires_at"], unique=False
    )
    op.add_column(
        "knowledge_entries",
        sa.Column("ingest_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("knowledge_entries", sa.Column("retry_at", sa.DateTimeUTC(timezone=True), nullable=True))
    op.create_index(
        "ix_knowledge_entries_status_updated", "knowledge_entries", ["status", "updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_knowledge_entries_status_updated", table_name="knowledge_entries")
    op.drop_column("knowledge_entries", "retry_at")
    op.drop_column("knowledge_entries", "ingest_attempts")
    op.drop_index(op.f("ix_access_revocations_expires_at"), table_name="access_revocations")
    op.drop_table("access_revocations")
