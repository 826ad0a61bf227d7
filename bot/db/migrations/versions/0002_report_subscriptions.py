"""One schema module: `request_subscriptions` becomes `report_subscriptions`, beside `alert_subscriptions`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("request_subscriptions", "report_subscriptions")


def downgrade() -> None:
    op.rename_table("report_subscriptions", "request_subscriptions")
