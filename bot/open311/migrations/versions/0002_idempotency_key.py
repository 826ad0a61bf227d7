"""Idempotency keys: a report filed again under the same key is stored once.

A file of the release that brought them already has the column and its index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "idempotency_key" not in {column["name"] for column in inspector.get_columns("requests")}:
        op.add_column("requests", sa.Column("idempotency_key", sa.Text))
    if "requests_idempotency_key" not in {index["name"] for index in inspector.get_indexes("requests")}:
        op.create_index("requests_idempotency_key", "requests", ["idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("requests_idempotency_key", "requests")
    op.drop_column("requests", "idempotency_key")
