"""The reference Open311 server's table: the city's back office, a database of its own (not the assistant's).

Times are UTC w3 strings of fixed width (`store.utc_w3`), so string order is time
order. Changing the table takes a migration in `bot/open311/migrations/versions/`.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

FIRST_ID = 1001  # service request ids start here

# Every service request filed, with what must never be published (contact details, token).
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
    sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),  # JSON
    sa.Column("email", sa.Text),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("device_id", sa.Text),
    sa.Column("account_id", sa.Text),
    # `<first 16 hex of sha256(api_key)>:<Idempotency-Key>`; NULLs never collide in the unique index.
    sa.Column("idempotency_key", sa.Text),
    sa.Index("requests_requested", "requested_datetime"),
    sa.Index("requests_service", "service_code"),
    sa.Index("requests_idempotency_key", "idempotency_key", unique=True),
    sqlite_autoincrement=True,  # ids are never reused, and start at FIRST_ID (see the first migration)
)
