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
depend on numbers, are the templates below.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Dict, List, Optional, Tuple

from bot.catalog import load_city
from bot.handoff import store
from bot.handoff.store import WAITING, Handoff

logger = logging.getLogger(__name__)

# Who the audit log names for what the resident did (not a valid staff username).
RESIDENT = "(resident)"

EMERGENCY_INTENT = "emergency"
CANCEL_INTENT = "cancel"
REQUEST_HUMAN_INTENT = "request_human"

# --- what the resident is told about the queue --------------------------------------------

JOINING = "Of course. I'm passing you to a member of city staff, who will answer right here."
STILL_WAITING = "You're in the queue for city staff, who will answer right here."
NEXT_IN_LINE = "You're next, and with {staff} on duty the wait should be about {wait}."
PEOPLE_AHEAD = "There {ahead} ahead of you and {staff} on duty, so the wait should be about {wait}."
KEPT_FOR_STAFF = 'Anything you write meanwhile is kept for them; say "cancel" to leave the queue.'
CALL_INSTEAD = "If you'd rather call, it's {phone}. For emergencies, call 911."
NOBODY_ON_DUTY = "Nobody from city staff is online right now{hours}."
NOBODY_JOINING = "Of course. " + NOBODY_ON_DUTY
QUEUED_FOR_LATER = (
    "Your conversation is in their queue{ahead} and a person will reply right here when they're back. " + KEPT_FOR_STAFF
)
CALL_OR_VISIT = "You can also call {phone}{visit}. For emergencies, call 911."


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def duration_text(wait: timedelta) -> str:
    """'a minute', '12 minutes', '1 hour', '1 hour 35 minutes' (5-minute steps from an hour on)."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes >= 60:
        minutes = 5 * round(minutes / 5)
    if minutes < 60:
        return "a minute" if minutes == 1 else f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    text = plural(hours, "hour", "hours")
    return f"{text} {rest} minutes" if rest else text


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


async def queue_message(handoff: Handoff, joining: bool) -> str:
    """The resident's place in the queue and the wait; City Hall's hours when nobody is on duty.

    `joining`: the handoff was just opened (the first thing said), else a reminder.
    """
    info = load_city().info
    phone = info.get("phone_311", "311")
    position = await store.queue_position(handoff.id)
    ahead_count = max(position - 1, 0)
    on_duty = await store.staff_on_duty()
    if on_duty:
        wait = expected_wait(
            position,
            len(on_duty),
            await store.claimed_by_any(on_duty),
            await store.typical_wait(),
            await store.typical_handling(),
        )
        staff = plural(len(on_duty), "staff member", "staff members")
        if ahead_count:
            ahead = "is 1 person" if ahead_count == 1 else f"are {ahead_count} people"
            line = PEOPLE_AHEAD.format(ahead=ahead, staff=staff, wait=duration_text(wait))
        else:
            line = NEXT_IN_LINE.format(staff=staff, wait=duration_text(wait))
        intro = JOINING if joining else STILL_WAITING
        return " ".join((intro, line, KEPT_FOR_STAFF, CALL_INSTEAD.format(phone=phone)))
    hall = info.get("city_hall") or {}
    hours = ""
    if hall.get("hours"):
        hours = f": City Hall is open {hall['hours']}" + (f" (closed {hall['closed']})" if hall.get("closed") else "")
    visit = f", or visit City Hall at {hall['address']}" if hall.get("address") else ""
    ahead = f" ({plural(ahead_count, 'person', 'people')} ahead of you)" if ahead_count else ""
    return " ".join(
        (
            (NOBODY_JOINING if joining else NOBODY_ON_DUTY).format(hours=hours),
            QUEUED_FOR_LATER.format(ahead=ahead),
            CALL_OR_VISIT.format(phone=phone, visit=visit),
        )
    )


async def opening_message(handoff: Handoff) -> str:
    """What the resident is told as the handoff opens."""
    return await queue_message(handoff, joining=True)


# --- the resident's messages while waiting -----------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the bot says (each one `dispatcher.utter_message` keyword arguments) and whether it resumes."""

    said: Tuple[Dict[str, str], ...] = field(default_factory=tuple)
    resume: bool = False


SILENT = Answer()


def response(name: str) -> Dict[str, str]:
    return {"response": name}


async def while_waiting(sender_id: str, intent: Optional[str]) -> Answer:
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
        return Answer(({"text": await queue_message(handoff, joining=False)},))
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
