"""Messenger and Instagram: when each resident last wrote (Meta's 24-hour window) and their photos' links.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "messenger_media",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_index("ix_messenger_media_sender_id", "messenger_media", ["sender_id"])


def downgrade() -> None:
    op.drop_index("ix_messenger_media_sender_id", table_name="messenger_media")
    op.drop_table("messenger_media")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("last_message_at")
