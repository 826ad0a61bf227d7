"""Reports: when the back office's close was first heard, kept on the report (the dashboard's time to close).

Until now the time to close came from the status updates, which the retention
job deletes with the resident who got them; reports already heard closed get
the time of their first `closed` update. The status poll stamps reports by
their request number, which gets an index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_outbox") as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_report_outbox_service_request_id", "report_outbox", ["service_request_id"])
    # A status update's change key is the status, lower case, a bar, then the notes.
    op.execute(
        "UPDATE report_outbox SET closed_at = (SELECT MIN(status_notifications.created_at) FROM status_notifications"
        " WHERE status_notifications.service_request_id = report_outbox.service_request_id"
        " AND status_notifications.change_key LIKE 'closed|%')"
        " WHERE report_outbox.service_request_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_report_outbox_service_request_id", table_name="report_outbox")
    with op.batch_alter_table("report_outbox") as batch_op:
        batch_op.drop_column("closed_at")
