"""Crisis alerts on the city's Facebook Page: the staff's choice, and the post's state.

Alerts written before this release are not published on the Page.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("publish_to_page", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "alert_page_posts",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("post_id", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_alert_page_posts_state", "alert_page_posts", ["state"])


def downgrade() -> None:
    op.drop_index("ix_alert_page_posts_state", table_name="alert_page_posts")
    op.drop_table("alert_page_posts")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("publish_to_page")
