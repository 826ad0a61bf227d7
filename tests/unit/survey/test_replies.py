"""Which messages are the score of the survey waiting in the conversation (bot/survey/replies.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from bot.survey.replies import first_reply_to_question, typed_reply_score

WAITING: Dict[str, Any] = {"survey_asked": "request:R-ABC123", "survey_answer": None}
ASKED: Dict[str, Any] = {"event": "slot", "name": "survey_asked", "value": "request:R-ABC123"}


def user(text: str) -> Dict[str, Any]:
    return {"event": "user", "text": text}


def score(
    text: str,
    intent: str,
    confidence: float = 0.9,
    slots: Optional[Dict[str, Any]] = None,
    before: Optional[List[Dict[str, Any]]] = None,
) -> Optional[int]:
    """`text` as the resident's message after the question (and after `before`)."""
    events = [ASKED, *(before or []), user(text)]
    return typed_reply_score(WAITING if slots is None else slots, None, intent, confidence, text, events)


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("4", "nlu_fallback", 4),
        ("4.5", "out_of_scope", None),
        ("I'd give it a 5", "deny", 5),
        ("I'd give it a 5", "affirm", 5),
        ("five stars", "rate_service", 5),
        ("le doy un 5", "rate_service", 5),
        ("no", "deny", None),
        ("yes", "affirm", None),
    ],
)
def test_a_typed_score_taken_for_no_request_of_its_own_is_the_score(
    text: str, intent: str, expected: Optional[int]
) -> None:
    assert score(text, intent) == expected


def test_another_intent_is_kept_when_the_nlu_is_sure_of_it() -> None:
    assert score("5 stars", "bot_challenge", 0.36) == 5  # a guess
    assert score("5 stars", "bot_challenge", 0.9) is None
    assert score("3 de 5", "faq", 0.32) == 3
    assert score("the 4 potholes are still there", "report_pothole", 0.4) is None  # more than a score


def test_an_emergency_is_never_a_score() -> None:
    assert score("4", "emergency", 0.3) is None


def test_only_while_the_survey_waits_outside_a_form() -> None:
    assert score("4", "nlu_fallback", slots={}) is None  # never asked
    assert score("4", "nlu_fallback", slots={**WAITING, "survey_answer": 12}) is None  # answered
    form_answer = typed_reply_score(WAITING, "service_request_form", "nlu_fallback", 0.3, "4", [ASKED, user("4")])
    assert form_answer is None


def test_only_the_first_message_after_the_question_is_a_score() -> None:
    assert score("4", "nlu_fallback", before=[user("where do I pay a parking ticket?")]) is None
    assert score("le doy un 5", "rate_service", before=[user("4 baches")]) is None


def test_the_question_is_where_survey_asked_takes_a_new_value() -> None:
    earlier = [user("I need to report a pothole"), {"event": "bot", "text": "How did we do?"}, ASKED]
    assert first_reply_to_question([*earlier, user("4")])
    carried_over = [{"event": "session_started"}, ASKED, {"event": "action", "name": "action_listen"}]
    assert not first_reply_to_question([*earlier, user("hi"), *carried_over, user("4")])  # a new session asks nothing
    assert first_reply_to_question([*earlier, *carried_over, user("4")])  # still the first since the question
    assert not first_reply_to_question([ASKED, {"event": "restart"}, user("4")])
    assert not first_reply_to_question([user("4")])  # never asked
