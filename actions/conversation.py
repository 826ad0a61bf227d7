"""Turns outside any form: misunderstandings, asking for a person, and waiting for one."""

from __future__ import annotations

import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, ConversationResumed, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import MISUNDERSTOOD_INTENTS, resident_messages
from bot.i18n.city import city_info
from bot.i18n.messages import Messages

logger = logging.getLogger(__name__)


def previous_user_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the user message before the latest one."""
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    if len(user_events) < 2:
        return None
    return ((user_events[-2].get("parse_data") or {}).get("intent") or {}).get("name")


def person_path(texts: Messages) -> str:
    """How to reach a person at the city, from the city's own contacts in the resident's language."""
    info = city_info(texts.language)
    hall = info.get("city_hall") or {}
    text = texts.text("conversation.call_for_a_person", phone=info.get("phone_311", "311"))
    if hall.get("hours") and hall.get("address"):
        text += " " + texts.text("conversation.visit_city_hall", address=hall["address"], hours=hall["hours"])
    return text


class ActionHandleMisunderstanding(Action):
    """Says honestly what the bot can't do; after two misses in a row, offers a person."""

    def name(self) -> Text:
        return "action_handle_misunderstanding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        texts = resident_messages(tracker)
        if previous_user_intent(tracker) in MISUNDERSTOOD_INTENTS:
            dispatcher.utter_message(
                text=texts.text("conversation.still_not_understood", person_path=person_path(texts)),
                buttons=[
                    {"title": texts.text("conversation.talk_to_a_person"), "payload": "/request_human"},
                    {"title": texts.text("conversation.what_can_you_do"), "payload": "/help"},
                ],
            )
        else:
            can_do = texts.text("conversation.can_do")
            dispatcher.utter_message(text=texts.text("conversation.not_understood", can_do=can_do))
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
        texts = resident_messages(tracker)
        try:
            contact = await contact_for(tracker.sender_id)
            channel = contact.channel if contact is not None else (tracker.get_latest_input_channel() or "rest")
            handoff, _created = await open_handoff(tracker.sender_id, channel, reason)
            text = await opening_message(handoff, texts)
        except Exception:  # the database is unreachable: the city's contacts are the next best thing
            logger.exception("could not open a handoff")
            dispatcher.utter_message(text=texts.text("conversation.person_unavailable", person_path=person_path(texts)))
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
            answer = await while_waiting(tracker.sender_id, intent, resident_messages(tracker))
        except Exception:
            logger.exception("could not handle a message while waiting for staff")
            if intent == EMERGENCY_INTENT:
                dispatcher.utter_message(**response("utter_emergency"))
            return []
        for message in answer.said:
            dispatcher.utter_message(**message)
        return [ConversationResumed()] if answer.resume else []
