"""The requests table as the reference server first made it (before idempotency keys).

Files of earlier releases were made with plain sqlite3 and have no version
table: the table and its indexes are created only if missing.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FIRST_ID = 1001

metadata = sa.MetaData()
requests = sa.Table(
    "requests",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(start=FIRST_ID), primary_key=True),
    sa.Column("token", sa.Text, nullable=False, unique=True),
    sa.Column("service_code", sa.Text, nullable=False),
    sa.Column("service_name", sa.Text, nullable=False),
    sa.Column("agency_responsible", sa.Text),
    sa.Column("service_notice", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_notes", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("requested_datetime", sa.Text, nullable=False),
    sa.Column("updated_datetime", sa.Text, nullable=False),
    sa.Column("expected_datetime", sa.Text),
    sa.Column("address", sa.Text),
    sa.Column("address_id", sa.Text),
    sa.Column("zipcode", sa.Text),
    sa.Column("lat", sa.Float),
    sa.Column("long", sa.Float),
    sa.Column("media_url", sa.Text),
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("email", sa.Text),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("device_id", sa.Text),
    sa.Column("account_id", sa.Text),
    sa.Index("requests_requested", "requested_datetime"),
    sa.Index("requests_service", "service_code"),
    sqlite_autoincrement=True,
)


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, checkfirst=True)
    if bind.dialect.name == "sqlite":  # PostgreSQL's identity starts at FIRST_ID
        bind.execute(
            sa.text(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'requests', :seq "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'requests')"
            ),
            {"seq": FIRST_ID - 1},
        )


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
