"""Each resident's language, for what is sent to them outside a conversation turn.

The Rasa server writes it when a resident's language changes
(bot/rasa_ext/patches/resident_language.py); report updates, alerts and
handoff notices read it. A resident never seen gets the city's default.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, upsert_row, utcnow
from bot.db.schema import resident_languages
from bot.i18n.languages import resident_language, supported


async def remember_language(sender_id: str, language: str) -> None:
    """Store a resident's language (upsert)."""

    values = {"language": language, "updated_at": utcnow()}
    await database().run(lambda c: upsert_row(c, resident_languages, {"sender_id": sender_id}, values))


async def stored_language(sender_id: str) -> Optional[str]:
    """A resident's stored language if it is one of the city's; None for a resident never seen.

    For a channel that knows something better than the default (Telegram's
    language_code) when the resident has no language yet.
    """
    stored = await database().run(
        lambda c: c.execute(
            sa.select(resident_languages.c.language).where(resident_languages.c.sender_id == sender_id)
        ).scalar()
    )
    return supported(stored)


async def language_for(sender_id: str) -> str:
    """The language a resident reads: the stored one, else the city's default."""
    return resident_language(await stored_language(sender_id))


async def languages_for(sender_ids: Iterable[str]) -> Dict[str, str]:
    """The language of each of many residents (one query), the default for those never seen."""
    wanted = list(dict.fromkeys(sender_ids))
    if not wanted:
        return {}

    def read(connection: Connection) -> Dict[str, str]:
        rows = connection.execute(
            sa.select(resident_languages.c.sender_id, resident_languages.c.language).where(
                resident_languages.c.sender_id.in_(wanted)
            )
        )
        return {row.sender_id: row.language for row in rows}

    stored = await database().run(read)
    return {sender: resident_language(stored.get(sender)) for sender in wanted}
