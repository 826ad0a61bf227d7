"""The phone number a Messenger or Instagram resident gave, for the report updates Meta's window blocks.

Meta lets the city's Page write to a resident only within 24 hours of their
last message; a status update that comes later goes by text message to the
number the resident left in a report (bot/channels/outbound.deliver_update).
One number per conversation: the latest report's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa

from bot.db.engine import database, upsert_row, utcnow
from bot.db.schema import update_fallbacks

SMS = "sms"  # the Twilio channel's name for text messages (bot/channels/twilio_inbound.channel_of)


@dataclass(frozen=True)
class Fallback:
    """Where a conversation's updates go instead: a channel and an address on it."""

    channel: str
    address: str


async def remember_fallback(sender_id: str, fallback: Fallback) -> None:
    """Keep `fallback` for the conversation (replacing the one an earlier report gave)."""

    values = {"channel": fallback.channel, "address": fallback.address, "given_at": utcnow()}
    await database().run(lambda c: upsert_row(c, update_fallbacks, {"sender_id": sender_id}, values))


async def fallback_for(sender_id: str) -> Optional[Fallback]:
    """The conversation's fallback, or None when the resident gave none."""
    row = await database().run(
        lambda c: c.execute(
            sa.select(update_fallbacks.c.channel, update_fallbacks.c.address).where(
                update_fallbacks.c.sender_id == sender_id
            )
        ).first()
    )
    return Fallback(row.channel, row.address) if row is not None else None
