"""mail outbox; organization columns as wide as the published limits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 02:00:00
"""

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from kalamna.domain import limits

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_unsent",
        "mail_outbox",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.alter_column(
        "organizations",
        "industry",
        existing_type=sa.String(length=120),
        type_=sa.String(length=limits.INDUSTRY_MAX),
        existing_nullable=True,
    )
    op.alter_column(
        "organizations",
        "country",
        existing_type=sa.String(length=80),
        type_=sa.String(length=limits.COUNTRY_MAX),
        existing_nullable=True,
    )


def downgrade() -> None:
    op.alter_column(
        "organizations",
        "country",
        existing_type=sa.String(length=limits.COUNTRY_MAX),
        type_=sa.String(length=80),
    )
    op.alter_column(
        "organizations",
        "industry",
        existing_type=sa.String(length=limits.INDUSTRY_MAX),
        type_=sa.String(length=120),
    )
    op.drop_index(
        "ix_mail_outbox_unsent", table_name="mail_outbox", postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_table("mail_outbox")
