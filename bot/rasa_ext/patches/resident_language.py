"""Patch: every resident message sets the conversation's `language` slot by bot/i18n/choice.py's rules.

The slot picks each response's variation (domain.yml conditions on it) and
tells the actions which catalog to write from. It is decided here, where the
tracker is at hand, before anything is predicted: an explicit choice (the
`set_language` intent), the remembered language, the channel's hint in the
message metadata (`language`), and what the message looks like. A change is
also stored for what is sent outside the conversation (bot/i18n/store.py).
This adds to Rasa's behaviour on purpose; a model whose domain has no
`language` slot keeps Rasa's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, Optional

from bot.failures import failure_summary
from bot.i18n.choice import Turn, decide
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

TARGET = "rasa.core.processor.MessageProcessor._handle_message_with_tracker"
LANGUAGE_SLOT = "language"
SET_LANGUAGE_INTENT = "set_language"


def turn_of(message: "UserMessage", tracker: "DialogueStateTracker") -> Turn:
    """What the latest message (already logged on the tracker) tells about its language."""
    latest = tracker.latest_message
    parse: Dict[str, Any] = latest.parse_data if latest else {}
    chosen: Optional[str] = None
    if (parse.get("intent") or {}).get("name") == SET_LANGUAGE_INTENT:
        chosen = next((e.get("value") for e in parse.get("entities") or [] if e.get("entity") == LANGUAGE_SLOT), None)
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    hint = metadata.get(LANGUAGE_SLOT)
    return Turn(
        text=message.text or "",
        remembered=tracker.get_slot(LANGUAGE_SLOT),
        chosen=chosen if isinstance(chosen, str) else None,
        hint=hint if isinstance(hint, str) else None,
        requested_slot=tracker.get_slot("requested_slot") if tracker.active_loop_name else None,
    )


async def store_language(sender_id: str, language: str) -> None:
    """Keep the change for messages sent outside the conversation; a database hiccup costs only that."""
    from bot.i18n.store import remember_language

    try:
        await remember_language(sender_id, language)
    except Exception as error:  # the answer in the conversation must not fail for it
        logger.warning("could not store a resident's language: %s", failure_summary(error))


def replacements() -> Dict[str, Any]:
    """MessageProcessor._handle_message_with_tracker followed by setting the `language` slot."""
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import SlotSet

    handle_message_with_tracker = MessageProcessor._handle_message_with_tracker

    async def _handle_message_with_tracker(
        self: MessageProcessor, message: "UserMessage", tracker: "DialogueStateTracker"
    ) -> None:
        await handle_message_with_tracker(self, message, tracker)
        if not any(slot.name == LANGUAGE_SLOT for slot in self.domain.slots):
            return
        language = decide(turn_of(message, tracker))
        if language != tracker.get_slot(LANGUAGE_SLOT):
            tracker.update(SlotSet(LANGUAGE_SLOT, language), self.domain)
            await store_language(tracker.sender_id, language)

    return {TARGET: _handle_message_with_tracker}


PATCH = Patch(
    name="resident_language",
    targets=(TARGET,),
    why=(
        "Rasa 3.6 has no notion of the language a resident reads.\n"
        "Each message sets the `language` slot (explicit choice, memory, channel hint, detection),\n"
        "on purpose an addition to Rasa's behaviour."
    ),
    replacements=replacements,
)
