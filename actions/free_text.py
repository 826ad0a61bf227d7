"""The report form's free-text questions as a conversation: the answer, a question, or "which is it?" asked once.

The reading itself is bot/reports/free_text.py; this module keeps the one
pending reply the form asked about (slot `pending_answer`: which question, the
words, when they were written, and the response that answers them as a
question) and turns the resident's "it's my answer" / "it's a question" into
slot changes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, latest_text, resident_messages
from bot.reports.free_text import (
    ANSWER,
    ELSEWHERE,
    Reply,
    answer_action,
    answer_key,
    read_free_text,
    says_it_is_the_answer,
)

PENDING = "pending_answer"
# What answers a reply taken as a question, by its intent (a city question's own answer is in its parse).
QUESTION_RESPONSES = {"help": "utter_help", "bot_challenge": "utter_iamabot"}


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [event for event in tracker.events if event.get("event") == "user"]


def _pending(tracker: Tracker, slot: str, turns_ago: int) -> Optional[Dict[str, Any]]:
    """The pending reply to `slot`, if it was written `turns_ago` user messages before the latest (0: the latest)."""
    pending = tracker.get_slot(PENDING)
    users = _user_events(tracker)
    if not isinstance(pending, dict) or pending.get("slot") != slot or len(users) <= turns_ago:
        return None
    return pending if pending.get("at") == users[-1 - turns_ago].get("timestamp") else None


def _topic_just_answered(tracker: Tracker) -> bool:
    """The previous message asked the same city question as the latest (and the form answered it)."""
    users = _user_events(tracker)
    if len(users) < 2:
        return False
    latest = answer_key(tracker.latest_message or {})
    return latest is not None and answer_key(users[-2].get("parse_data") or {}) == latest


def free_text_answer(dispatcher: CollectingDispatcher, tracker: Tracker, slot: Text) -> Dict[Text, Any]:
    """The slot changes a reply to the free-text question `slot` makes (nothing: it was something else)."""
    text = latest_text(tracker)
    asked = _pending(tracker, slot, turns_ago=1)
    if asked is not None:
        verdict = says_it_is_the_answer(text, latest_intent(tracker)[0])
        if verdict is True:
            return {slot: asked["text"], PENDING: None}
        if verdict is False:
            if asked.get("response"):
                dispatcher.utter_message(response=asked["response"])
            return {PENDING: None}
    reply = Reply.from_parse(tracker.latest_message or {}, topic_just_answered=_topic_just_answered(tracker))
    reading = read_free_text(reply)
    if reading == ANSWER or (reading != ELSEWHERE and asked is not None):  # asked once already: the answer
        return {slot: text, PENDING: None} if text else {}
    if reading == ELSEWHERE:
        return {}
    users = _user_events(tracker)
    response = answer_action(tracker.latest_message or {}) or QUESTION_RESPONSES.get(reply.intent or "")
    return {PENDING: {"slot": slot, "text": text, "at": users[-1].get("timestamp"), "response": response}}


def ask_if_unsure(dispatcher: CollectingDispatcher, tracker: Tracker, slot: Text) -> bool:
    """Ask "Is that your answer, or a question for me?" when the latest reply to `slot` left it unsure."""
    if _pending(tracker, slot, turns_ago=0) is None:
        return False
    texts = resident_messages(tracker)
    dispatcher.utter_message(
        text=texts.text("reports.form.answer_or_question"),
        buttons=[
            {"title": texts.text("reports.button.my_answer"), "payload": "/affirm"},
            {"title": texts.text("reports.button.a_question"), "payload": "/deny"},
        ],
    )
    return True
