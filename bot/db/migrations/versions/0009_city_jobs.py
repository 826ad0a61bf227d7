"""City jobs: the jobs feed's last good copy, postings seen, residents' job alerts and their deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_feeds",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("postings", sa.Text(), nullable=False),
        sa.Column("careers_url", sa.String(length=512), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "job_postings_seen",
        sa.Column("identifier", sa.String(length=256), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identifier"),
    )
    op.create_table(
        "job_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("department", sa.String(length=256), server_default="", nullable=False),
        sa.Column("keyword", sa.String(length=128), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "department", "keyword", name="uq_job_subscriptions"),
    )
    op.create_index("ix_job_subscriptions_sender_id", "job_subscriptions", ["sender_id"])
    op.create_table(
        "job_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("posting_id", sa.String(length=256), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("posting", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("posting_id", "sender_id", name="uq_job_notifications"),
    )
    op.create_index("ix_job_notifications_state", "job_notifications", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_job_notifications_state", table_name="job_notifications")
    op.drop_table("job_notifications")
    op.drop_index("ix_job_subscriptions_sender_id", table_name="job_subscriptions")
    op.drop_table("job_subscriptions")
    op.drop_table("job_postings_seen")
    op.drop_table("job_feeds")
