"""How to reach each conversation's resident, and which webhook deliveries were already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, upsert_row, utcnow
from bot.db.schema import contacts, processed_deliveries


async def first_delivery(channel: str, delivery_id: str) -> bool:
    """Record a webhook delivery; False when it was already processed (a retry)."""

    def record(connection: Connection) -> bool:
        try:
            with connection.begin_nested():
                connection.execute(
                    processed_deliveries.insert().values(channel=channel, delivery_id=delivery_id, received_at=utcnow())
                )
            return True
        except sa.exc.IntegrityError:
            return False

    return await database().run(record)


async def remember_contact(sender_id: str, channel: str, address: str) -> None:
    """Store how to reach a conversation's resident (upsert)."""

    values = {"channel": channel, "address": address, "updated_at": utcnow()}
    await database().run(
        lambda c: upsert_row(c, contacts, {"sender_id": sender_id}, values, inserted={"opted_out": False})
    )


async def contact_for(sender_id: str) -> Optional[sa.engine.Row]:
    """The channel, address and opt-out state of a conversation's resident."""
    return await database().run(
        lambda c: c.execute(sa.select(contacts).where(contacts.c.sender_id == sender_id)).first()
    )


async def set_opted_out(sender_id: str, opted_out: bool) -> None:
    """Carrier keywords: STOP opts a number out of every message, START back in."""
    await database().run(
        lambda c: c.execute(
            contacts.update().where(contacts.c.sender_id == sender_id).values(opted_out=opted_out, updated_at=utcnow())
        )
    )


async def note_resident_message(sender_id: str, at: Optional[datetime] = None) -> None:
    """When the resident last wrote (Meta's messaging window counts from it)."""
    await database().run(
        lambda c: c.execute(
            contacts.update().where(contacts.c.sender_id == sender_id).values(last_message_at=at or utcnow())
        )
    )
