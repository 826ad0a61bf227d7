"""Which messages are the score of the survey waiting in the conversation (bot/survey/replies.py)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest

from bot.survey.replies import typed_reply_score

WAITING: Dict[str, Any] = {"survey_asked": "request:R-ABC123", "survey_answer": None}


def score(text: str, intent: str, confidence: float = 0.9, slots: Optional[Dict[str, Any]] = None) -> Optional[int]:
    return typed_reply_score(WAITING if slots is None else slots, None, intent, confidence, text)


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
    assert typed_reply_score(WAITING, "service_request_form", "nlu_fallback", 0.3, "4") is None  # a form's answer
