"""Language access: each resident's language, each report's, alerts' texts in other languages and each delivery's.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_languages",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id"),
    )
    op.create_table(
        "alert_translations",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("alert_id", "language"),
    )
    with op.batch_alter_table("report_outbox") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("faq_url", sa.String(length=512), nullable=True))
    with op.batch_alter_table("alert_deliveries") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("faq_url")
    with op.batch_alter_table("report_outbox") as batch_op:
        batch_op.drop_column("language")
    op.drop_table("alert_translations")
    op.drop_table("resident_languages")
