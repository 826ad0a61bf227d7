"""Staff roles: every account has one (existing ones become agents, the least), and its last sign-in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="agent"))
        batch_op.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
    # The last sign-in each account already made, from the audit log.
    op.execute(
        "UPDATE staff_users SET last_sign_in_at = (SELECT MAX(audit_log.at) FROM audit_log"
        " WHERE audit_log.actor = staff_users.username AND audit_log.action = 'login')"
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("last_sign_in_at")
        batch_op.drop_column("role")
