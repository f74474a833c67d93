"""feedback by message index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:05:38.702207
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

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_chat_feedback_message_id"), "chat_feedback", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_feedback_message_id"), table_name="chat_feedback")
