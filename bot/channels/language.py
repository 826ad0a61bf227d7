"""The language a channel writes its own texts in (fixed replies, choices, keyword answers).

A channel often answers before the conversation is read, or without it (a
message too long for the assistant, a carrier keyword, an outbound message):
it then goes by the resident's stored language (bot/i18n/store.py), else what
the channel itself says about the resident (Telegram's `language_code`), else
the city's default.
"""

from __future__ import annotations

from typing import Optional

from bot.i18n.messages import Messages, messages
from bot.i18n.store import stored_language


async def resident_texts(sender_id: str, hint: Optional[str] = None) -> Messages:
    """The texts of the language a resident reads, as far as a channel can tell."""
    return messages(await stored_language(sender_id) or hint)
