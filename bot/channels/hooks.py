"""Hooks other parts of the assistant hang into the channels, so the channels never import them.

A keyword handler sees a resident's text message before Rasa does (crisis
alerts: "ALERTS ON WATER", "ALERTS OFF"); the first handler that answers
takes the message, and its answer is sent back on the same channel. The
parts register their handlers when the process starts.
"""

from __future__ import annotations

from typing import Awaitable, Callable, List, Optional

# The metadata key of a message a channel sends in the resident's name without the resident
# typing it (the web chat's greeting when a page opens): the dashboard does not count it as
# the resident writing, so a page opened and left is not a conversation.
NOT_TYPED = "not_typed"

KeywordHandler = Callable[[str, str], Awaitable[Optional[str]]]  # (sender id, text) -> reply, or None

_keyword_handlers: List[KeywordHandler] = []


def register_keyword_handler(handler: KeywordHandler) -> None:
    """Let `handler` answer text messages before Rasa (registering twice changes nothing)."""
    if handler not in _keyword_handlers:
        _keyword_handlers.append(handler)


async def handle_keyword(sender_id: str, text: str) -> Optional[str]:
    """The reply of the first registered handler that takes the message, or None (then Rasa answers)."""
    for handler in list(_keyword_handlers):
        reply = await handler(sender_id, text)
        if reply is not None:
            return reply
    return None
