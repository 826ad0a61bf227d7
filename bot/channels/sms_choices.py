"""The numbered choices last offered in each SMS/WhatsApp conversation.

A reply of "2" means the second button of the message the resident just read,
so the payloads are kept per conversation until the resident's next message,
which uses them up: a later "3" (three days, say) is then taken literally. They
live in the assistant's database, so a restart between question and answer
loses nothing.
"""

from __future__ import annotations

import json
from typing import List, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.sms_format import pick_choice
from bot.db.engine import database, utcnow
from bot.db.schema import sms_choices


async def remember_choices(sender_id: str, payloads: Sequence[str]) -> None:
    """Keep the payloads of the buttons just sent to a conversation."""

    def replace(connection: Connection) -> None:
        connection.execute(sms_choices.delete().where(sms_choices.c.sender_id == sender_id))
        connection.execute(
            sms_choices.insert().values(sender_id=sender_id, payloads=json.dumps(list(payloads)), updated_at=utcnow())
        )

    await database().run(replace)


async def take_choices(sender_id: str) -> List[str]:
    """The payloads last offered to a conversation, forgotten as they are read."""

    def pop(connection: Connection) -> List[str]:
        row = connection.execute(sa.select(sms_choices.c.payloads).where(sms_choices.c.sender_id == sender_id)).first()
        if row is None:
            return []
        connection.execute(sms_choices.delete().where(sms_choices.c.sender_id == sender_id))
        return [str(p) for p in json.loads(row.payloads)]

    return await database().run(pop)


async def resolve_reply(sender_id: str, text: str) -> str:
    """The resident's message with a numbered choice turned into its button's payload."""
    picked = pick_choice(text, await take_choices(sender_id))
    return picked if picked is not None else text
