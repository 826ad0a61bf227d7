"""Photos residents upload in the web chat.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webchat_photos",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_index("ix_webchat_photos_sender_id_created_at", "webchat_photos", ["sender_id", "created_at"])
    op.create_index("ix_webchat_photos_created_at", "webchat_photos", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_webchat_photos_created_at", table_name="webchat_photos")
    op.drop_index("ix_webchat_photos_sender_id_created_at", table_name="webchat_photos")
    op.drop_table("webchat_photos")
