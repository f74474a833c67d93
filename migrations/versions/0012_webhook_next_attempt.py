"""webhook deliveries: when the next attempt is due (for the sweeper of lost jobs)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 04:40:00.000000
"""

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhook_deliveries", sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True)
    )
    # Pending rows written before this column: due now (a duplicate job is harmless; the key dedups).
    op.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = coalesce(last_attempt_at, created_at) "
        "WHERE status = 'pending'"
    )
    op.create_index(
        "ix_webhook_deliveries_pending_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_webhook_deliveries_pending_due",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_column("webhook_deliveries", "next_attempt_at")
