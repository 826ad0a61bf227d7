"""The form's free-text questions: the resident's words taken, or "your answer, or a question?" asked once."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.free_text import PENDING, ask_if_unsure, free_text_answer

FORM = {"name": "service_request_form"}


def user(text: str, at: float, intent: str = "faq", confidence: float = 0.95, topic: Optional[str] = None) -> Dict:
    parse: Dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": topic}}}
    return {"event": "user", "text": text, "timestamp": at, "parse_data": parse}


def tracker(messages: List[Dict], pending: Optional[Dict] = None, language: str = "en") -> Tracker:
    return Tracker(
        sender_id="resident",
        slots={"requested_slot": "description", PENDING: pending, "language": language},
        latest_message=messages[-1]["parse_data"],
        events=messages,
        paused=False,
        followup_action=None,
        active_loop=FORM,
        latest_action_name="action_listen",
    )


def test_words_naming_a_city_topic_are_the_description() -> None:
    dispatcher = CollectingDispatcher()
    said = tracker([user("public property", 1.0, topic="faq/property_tax")])
    assert free_text_answer(dispatcher, said, "description") == {"description": "public property", PENDING: None}
    assert dispatcher.messages == []


def test_a_confident_city_question_is_left_to_the_dialogue() -> None:
    said = tracker([user("when is city hall open?", 1.0, confidence=0.95, topic="faq/city_hall_hours")])
    assert free_text_answer(CollectingDispatcher(), said, "description") == {}


def test_the_same_city_question_again_is_taken_as_the_answer() -> None:
    first = user("how do I pay property tax?", 1.0, topic="faq/property_tax")
    again = user("how do I pay property tax?", 2.0, topic="faq/property_tax")
    result = free_text_answer(CollectingDispatcher(), tracker([first, again]), "description")
    assert result == {"description": "how do I pay property tax?", PENDING: None}


def test_an_unsure_question_is_asked_about_once_and_the_answer_taken() -> None:
    unsure = user("is it the tax office?", 1.0, confidence=0.5, topic="faq/property_tax")
    dispatcher = CollectingDispatcher()
    result = free_text_answer(dispatcher, tracker([unsure]), "description")
    pending = result[PENDING]
    assert pending == {
        "slot": "description",
        "text": "is it the tax office?",
        "at": 1.0,
        "response": "utter_faq/property_tax",
    }
    asking = CollectingDispatcher()
    assert ask_if_unsure(asking, tracker([unsure], pending, language="es"), "description")
    (question,) = asking.messages
    assert question["text"] == "¿Esa es su respuesta, o es una pregunta para mí?"
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]
    answer = user("/affirm", 2.0, intent="affirm", confidence=1.0)
    taken = free_text_answer(CollectingDispatcher(), tracker([unsure, answer], pending), "description")
    assert taken == {"description": "is it the tax office?", PENDING: None}


def test_a_question_after_all_gets_its_answer_and_the_question_again() -> None:
    unsure = user("is it the tax office?", 1.0, confidence=0.5, topic="faq/property_tax")
    pending = {"slot": "description", "text": "is it the tax office?", "at": 1.0, "response": "utter_faq/property_tax"}
    dispatcher = CollectingDispatcher()
    reply = user("it's a question", 2.0, intent="deny", confidence=0.8)
    assert free_text_answer(dispatcher, tracker([unsure, reply], pending), "description") == {PENDING: None}
    assert dispatcher.messages[0]["response"] == "utter_faq/property_tax"


def test_asked_once_only_an_unsure_reply_is_then_the_answer() -> None:
    unsure = user("is it the tax office?", 1.0, confidence=0.5, topic="faq/property_tax")
    pending = {"slot": "description", "text": "is it the tax office?", "at": 1.0, "response": None}
    again = user("where is the tax office?", 2.0, confidence=0.5, topic="faq/property_tax")
    result = free_text_answer(CollectingDispatcher(), tracker([unsure, again], pending), "description")
    assert result == {"description": "where is the tax office?", PENDING: None}


def test_a_stale_pending_reply_asks_nothing() -> None:
    pending = {"slot": "description", "text": "old", "at": 1.0, "response": None}
    later = tracker([user("old", 1.0), user("graffiti on the wall", 5.0, intent="inform")], pending)
    assert not ask_if_unsure(CollectingDispatcher(), later, "description")
    assert not ask_if_unsure(CollectingDispatcher(), later, "location")
