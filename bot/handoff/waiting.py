"""A resident whose conversation waits for city staff: what they are told, and what their messages do.

While a handoff is open the bot is paused, but each message still goes through
the NLU and `action_handoff_waiting` (run by `bot.rasa_ext.patches.handoff_waiting`) asks
`while_waiting` what it comes to:

- an emergency gets the 911 answer at once and marks the handoff urgent (top of
  the queue, flagged in the console, in the audit log), also once staff have it;
- "cancel" leaves the queue: the handoff is resolved by the resident and the bot
  resumes;
- asking for a person again tells the current place in the queue and the wait;
- the first other message is acknowledged once; the rest wait silently. Every
  message stays in the transcript staff read.

The wait told follows the queue: the resident's place in it, the staff on duty
and how long staff usually take, or City Hall's hours when nobody is on duty.
Resident-facing fixed replies are domain responses; the wait sentences, which
depend on numbers, are in the resident's language from the `handoff` catalog
(bot/i18n/locales/<lang>/LC_MESSAGES/handoff.po), with the city's contacts and
hours from the city file's translation.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple

from bot.handoff import store
from bot.handoff.store import WAITING, Handoff
from bot.i18n.city import city_info
from bot.i18n.messages import Messages

logger = logging.getLogger(__name__)

# Who the audit log names for what the resident did (not a valid staff username).
RESIDENT = "(resident)"

EMERGENCY_INTENT = "emergency"
CANCEL_INTENT = "cancel"
REQUEST_HUMAN_INTENT = "request_human"

# --- what the resident is told about the queue --------------------------------------------


def duration_text(wait: timedelta, texts: Messages) -> str:
    """'a minute', '12 minutes', '1 hour', '1 hour 35 minutes' (5-minute steps from an hour on)."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes >= 60:
        minutes = 5 * round(minutes / 5)
    if minutes < 60:
        return texts.plural("handoff.minutes", minutes)
    hours, rest = divmod(minutes, 60)
    text = texts.plural("handoff.hours", hours)
    if not rest:
        return text
    return texts.text("handoff.hours_and_minutes", hours=text, minutes=texts.plural("handoff.minutes", rest))


# However quickly staff closed their last conversations, one with a resident waiting takes this long.
MIN_CONVERSATION = timedelta(minutes=3)


def expected_wait(position: int, on_duty: int, busy: int, pickup: timedelta, per_conversation: timedelta) -> timedelta:
    """How long until staff reach the `position`-th waiting conversation.

    Each of the `on_duty` staff takes one conversation at a time and `busy` are
    already taken: the first free ones are picked up within the usual pickup
    time, and each further round of `on_duty` conversations ahead adds one usual
    conversation length (at least MIN_CONVERSATION). 18 ahead with one person on
    duty is never "a minute".
    """
    rounds = (max(position, 1) - 1 + max(busy, 0)) // max(on_duty, 1)
    return pickup + rounds * max(per_conversation, MIN_CONVERSATION)


async def queue_message(handoff: Handoff, joining: bool, texts: Messages) -> str:
    """The resident's place in the queue and the wait; City Hall's hours when nobody is on duty.

    `joining`: the handoff was just opened (the first thing said), else a reminder.
    """
    info = city_info(texts.language)
    phone = info.get("phone_311", "311")
    position = await store.queue_position(handoff.id)
    ahead = max(position - 1, 0)
    on_duty = await store.staff_on_duty()
    opening = [texts.text("handoff.of_course")] if joining else []
    if on_duty:
        wait = expected_wait(
            position,
            len(on_duty),
            await store.claimed_by_any(on_duty),
            await store.typical_wait(),
            await store.typical_handling(),
        )
        staff = texts.plural("handoff.staff_on_duty", len(on_duty))
        if ahead:
            line = texts.plural("handoff.people_ahead", ahead, staff=staff, wait=duration_text(wait, texts))
        else:
            line = texts.text("handoff.next_in_line", staff=staff, wait=duration_text(wait, texts))
        intro = texts.text("handoff.passing_to_staff" if joining else "handoff.still_waiting")
        return " ".join(
            (
                *opening,
                intro,
                line,
                texts.text("handoff.kept_for_staff"),
                texts.text("handoff.call_instead", phone=phone),
            )
        )
    return " ".join(
        (
            *opening,
            nobody_on_duty(info.get("city_hall") or {}, texts),
            texts.plural("handoff.queued_for_later_ahead", ahead) if ahead else texts.text("handoff.queued_for_later"),
            texts.text("handoff.kept_for_staff"),
            call_or_visit(phone, info.get("city_hall") or {}, texts),
        )
    )


def nobody_on_duty(hall: Mapping[str, Any], texts: Messages) -> str:
    """Nobody is online, and when City Hall is open (and closed) if the city file says."""
    if not hall.get("hours"):
        return texts.text("handoff.nobody_on_duty")
    if hall.get("closed"):
        return texts.text("handoff.nobody_on_duty_open_closed", hours=hall["hours"], closed=hall["closed"])
    return texts.text("handoff.nobody_on_duty_open", hours=hall["hours"])


def call_or_visit(phone: str, hall: Mapping[str, Any], texts: Messages) -> str:
    if hall.get("address"):
        return texts.text("handoff.call_or_visit", phone=phone, address=hall["address"])
    return texts.text("handoff.call", phone=phone)


async def opening_message(handoff: Handoff, texts: Messages) -> str:
    """What the resident is told as the handoff opens."""
    return await queue_message(handoff, joining=True, texts=texts)


# --- the resident's messages while waiting -----------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the bot says (each one `dispatcher.utter_message` keyword arguments) and whether it resumes."""

    said: Tuple[Dict[str, str], ...] = field(default_factory=tuple)
    resume: bool = False


SILENT = Answer()


def response(name: str) -> Dict[str, str]:
    return {"response": name}


async def while_waiting(sender_id: str, intent: Optional[str], texts: Messages) -> Answer:
    """What a message to a conversation paused for staff comes to (see the module docstring)."""
    handoff = await store.open_handoff_for(sender_id)
    if handoff is None:
        return SILENT  # paused without a handoff: staff's business, as before
    if intent == EMERGENCY_INTENT:
        return await emergency(handoff)
    if handoff.state != WAITING:
        return SILENT  # staff are in the conversation and read it
    if intent == CANCEL_INTENT:
        return await leave_queue(handoff)
    if intent == REQUEST_HUMAN_INTENT:
        return Answer(({"text": await queue_message(handoff, joining=False, texts=texts)},))
    if handoff.noted_at is None and await store.note_first_message(handoff.id):
        return Answer((response("utter_handoff_noted"),))
    return SILENT


async def emergency(handoff: Handoff) -> Answer:
    """The 911 answer first; the handoff goes to the top of the queue (audited once)."""
    said: List[Dict[str, str]] = [response("utter_emergency")]
    if not handoff.urgent and await store.mark_urgent(handoff.id):
        await store.audit(RESIDENT, "urgent", handoff.id, f"emergency message while {handoff.state}")
        logger.warning("handoff %s marked urgent: emergency message while %s", handoff.id, handoff.state)
    if handoff.state == WAITING:
        said.append(response("utter_handoff_marked_urgent"))
    return Answer(tuple(said))


async def leave_queue(handoff: Handoff) -> Answer:
    """Out of the queue and back to the bot; nothing when staff claimed it a moment ago."""
    if not await store.leave_queue(handoff.id, RESIDENT):
        return SILENT
    await store.audit(RESIDENT, "cancel", handoff.id, "left the queue")
    logger.info("handoff %s: the resident left the queue", handoff.id)
    return Answer((response("utter_handoff_left_queue"),), resume=True)
