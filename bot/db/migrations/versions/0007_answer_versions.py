"""Answers staff edit: every published version of an answer, per language.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("response", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces", sa.Integer(), nullable=False),
        sa.Column("restores", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response", "language", "replaces", name="uq_answer_versions_replaces"),
    )


def downgrade() -> None:
    op.drop_table("answer_versions")
