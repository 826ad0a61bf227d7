"""Turns outside any form: misunderstandings, asking for a person, and waiting for one."""

from __future__ import annotations

import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, ConversationResumed, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import MISUNDERSTOOD_INTENTS
from bot.catalog import load_city

logger = logging.getLogger(__name__)

CAN_DO = (
    "I can answer questions about city services, take a report (potholes, missed "
    "garbage, street lights, graffiti, noise and more) or check a report's status."
)


def previous_user_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the user message before the latest one."""
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    if len(user_events) < 2:
        return None
    return ((user_events[-2].get("parse_data") or {}).get("intent") or {}).get("name")


def person_path() -> str:
    """How to reach a person at the city, from the city's own contacts."""
    info = load_city().info
    phone = info.get("phone_311", "311")
    hall = info.get("city_hall") or {}
    hours = hall.get("hours")
    text = f"To talk to a person, call {phone}."
    if hours and hall.get("address"):
        text += f" You can also visit City Hall at {hall['address']}, {hours}."
    return text


class ActionHandleMisunderstanding(Action):
    """Says honestly what the bot can't do; after two misses in a row, offers a person."""

    def name(self) -> Text:
        return "action_handle_misunderstanding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if previous_user_intent(tracker) in MISUNDERSTOOD_INTENTS:
            dispatcher.utter_message(
                text=f"Sorry, I'm still not able to help with that. {person_path()}",
                buttons=[
                    {"title": "Talk to a person", "payload": "/request_human"},
                    {"title": "What can you do?", "payload": "/help"},
                ],
            )
        else:
            dispatcher.utter_message(text=f"Sorry, I can't help with that. {CAN_DO}")
        return []


class ActionRequestHuman(Action):
    """Hands the conversation to city staff: a handoff in the staff console's queue, the bot paused.

    The resident is told a person is coming, their place in the queue and the
    wait, or City Hall's hours when nobody is on duty. The report slots
    collected so far are kept for staff to see. While the tracker is paused Rasa
    records what the resident writes and runs only `action_handoff_waiting`;
    staff resolve the handoff (or the resident cancels) to resume the bot.
    If the handoff cannot be stored, the resident gets the city's contacts instead.
    """

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from bot.db.contacts import contact_for
        from bot.handoff.store import ASKED, MISUNDERSTOOD, open_handoff
        from bot.handoff.waiting import opening_message

        reason = MISUNDERSTOOD if previous_user_intent(tracker) in MISUNDERSTOOD_INTENTS else ASKED
        try:
            contact = await contact_for(tracker.sender_id)
            channel = contact.channel if contact is not None else (tracker.get_latest_input_channel() or "rest")
            handoff, _created = await open_handoff(tracker.sender_id, channel, reason)
            text = await opening_message(handoff)
        except Exception:  # the database is unreachable: the city's contacts are the next best thing
            logger.exception("could not open a handoff")
            dispatcher.utter_message(text=f"Of course. {person_path()} For emergencies, call 911.")
            return []
        dispatcher.utter_message(text=text)
        return [ConversationPaused()]


class ActionHandoffWaiting(Action):
    """A message to a conversation paused for staff.

    Run by bot/rasa_ext/patches/handoff_waiting.py; see bot.handoff.waiting.

    If the database cannot be reached, an emergency still gets the 911 answer.
    """

    def name(self) -> Text:
        return "action_handoff_waiting"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from bot.handoff.waiting import EMERGENCY_INTENT, response, while_waiting

        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            answer = await while_waiting(tracker.sender_id, intent)
        except Exception:
            logger.exception("could not handle a message while waiting for staff")
            if intent == EMERGENCY_INTENT:
                dispatcher.utter_message(**response("utter_emergency"))
            return []
        for message in answer.said:
            dispatcher.utter_message(**message)
        return [ConversationResumed()] if answer.resume else []
