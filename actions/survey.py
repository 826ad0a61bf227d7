"""The satisfaction survey in conversation: the question after a report, the score, the optional comment.

`survey_question_events` is what an action that finished something (filing a
report) adds to ask "How did we do? 1-5" when bot/survey/eligibility.py allows
it. A score (`rate_service`: a button, a bare "4" on SMS, "4 out of 5"; or a
score typed while the survey waits, whatever the NLU made of it: bot/survey/replies.py;
typed, only as the first message after the question, as there)
is stored by `action_rate_service`, which then asks for a comment; the next message is that
comment (`action_save_survey_comment`, data/rules.yml) unless it asks for
something of its own (a city question, a report), which gets its usual answer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent, latest_text, resident_language, resident_messages
from bot.db.contacts import contact_for
from bot.db.engine import utcnow
from bot.reports.answers import is_skip
from bot.survey import store
from bot.survey.eligibility import may_ask
from bot.survey.question import comment_question, question, score_of
from bot.survey.replies import ANSWER_SLOT, ASKED_SLOT, first_reply_to_question

DECLINING_INTENTS = ("deny", "cancel")


async def channel_of(sender_id: str) -> str:
    """The conversation's channel as its contact row has it ("sms", "whatsapp"); REST conversations have none.

    (Actions import no channel module: tests/unit/test_import_boundaries.py.)
    """
    contact = await contact_for(sender_id)
    return str(contact.channel) if contact is not None else store.NO_CONTACT_CHANNEL


async def survey_question_events(dispatcher: CollectingDispatcher, tracker: Tracker, about: str) -> List[EventType]:
    """Ask the survey about `about` ("request:R-KVJ88H") if it may be asked now; the slots that remember it."""
    now = utcnow()  # the resident has just written: inside any channel's window
    active_loop = (tracker.active_loop or {}).get("name")
    if not may_ask(tracker.get_slot(ASKED_SLOT), active_loop, await channel_of(tracker.sender_id), now, now):
        return []
    text, buttons = question(resident_language(tracker))
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet(ASKED_SLOT, about), SlotSet(ANSWER_SLOT, None)]


class ActionRateService(Action):
    """Stores the resident's score for the survey asked, then asks for an optional comment."""

    def name(self) -> Text:
        return "action_rate_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        texts = resident_messages(tracker)
        about = tracker.get_slot(ASKED_SLOT)
        text = latest_text(tracker)
        pressed = text.startswith("/")  # a button, or its number on SMS: a score whenever the survey waits
        answered = tracker.get_slot(ANSWER_SLOT) is not None
        if not about or answered or not (pressed or first_reply_to_question(tracker.events)):
            dispatcher.utter_message(text=texts.text("survey.not_asked"))
            return []
        entities: List[Dict[str, Any]] = list((tracker.latest_message or {}).get("entities") or [])
        score = score_of(entities, text)
        if score is None:
            text, buttons = question(resident_language(tracker))
            dispatcher.utter_message(text=texts.text("survey.no_score"), buttons=buttons)
            return []
        language = resident_language(tracker)
        answer_id = await store.record_score(score, await channel_of(tracker.sender_id), language, about)
        text, buttons = comment_question(language)
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet(ANSWER_SLOT, answer_id)]


class ActionSaveSurveyComment(Action):
    """The message after a score: the resident's comment, or a skip."""

    def name(self) -> Text:
        return "action_save_survey_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        texts = resident_messages(tracker)
        answer_id = tracker.get_slot(ANSWER_SLOT)
        text = latest_text(tracker)
        intent, _ = latest_intent(tracker)
        if answer_id is None:  # the score before was refused: nothing to comment on
            dispatcher.utter_message(text=texts.text("survey.not_asked"))
            return []
        if intent in DECLINING_INTENTS or text.startswith("/") or is_skip(text) or not text:
            dispatcher.utter_message(text=texts.text("survey.no_comment"))
            return []
        await store.add_comment(int(answer_id), text)
        dispatcher.utter_message(text=texts.text("survey.comment_thanks"))
        return []
