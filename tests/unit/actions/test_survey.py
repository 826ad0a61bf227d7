"""The survey in conversation: asked once after a report, never in a form, the score and the comment stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest

from actions.report_form import ActionSubmitReport
from actions.survey import ActionRateService, ActionSaveSurveyComment
from bot.survey.store import answers_between
from tests.unit.actions.test_actions import FULL_REPORT, back_office, make_tracker, run  # noqa: F401

RATE_4 = [{"entity": "score", "value": 4}]


def asked_then(*texts: str, about: str = "request:R-ABC123") -> List[Dict[str, Any]]:
    """A tracker's events: the survey asked about `about`, then the resident's messages (the last the latest)."""
    question = [{"event": "bot", "text": "How did we do?"}, {"event": "slot", "name": "survey_asked", "value": about}]
    return [*question, *({"event": "user", "text": text} for text in texts)]


async def stored() -> list:
    now = datetime.now(timezone.utc)
    return await answers_between(now - timedelta(hours=1), now + timedelta(hours=1))


async def test_a_filed_report_asks_once_with_five_buttons():
    tracker = make_tracker("yes", slots={**FULL_REPORT, "confirm": True}, active_loop=None)
    messages, slots = await run(ActionSubmitReport(), tracker)
    assert "request number is" in messages[0]["text"]
    assert messages[1]["text"].startswith("How did we do?")
    assert [b["payload"] for b in messages[1]["buttons"]] == [f'/rate_service{{"score": {n}}}' for n in range(1, 6)]
    reference = [m for m in messages[0]["text"].split() if m.startswith("R-")][0].rstrip(").")
    assert slots["survey_asked"] == f"request:{reference}" and slots["survey_answer"] is None

    asked_before = {**FULL_REPORT, "confirm": True, "survey_asked": "request:R-OLD1234"}
    messages, slots = await run(ActionSubmitReport(), make_tracker("yes", slots=asked_before, active_loop=None))
    assert len(messages) == 1 and "survey_asked" not in slots


async def test_never_asked_while_a_form_runs():
    tracker = make_tracker("yes", slots={**FULL_REPORT, "confirm": True}, active_loop="status_form")
    messages, slots = await run(ActionSubmitReport(), tracker)
    assert len(messages) == 1 and "survey_asked" not in slots


async def test_spanish_residents_are_asked_in_spanish():
    slots = {**FULL_REPORT, "confirm": True, "language": "es"}
    messages, _ = await run(ActionSubmitReport(), make_tracker("sí", slots=slots, active_loop=None))
    assert messages[-1]["text"].startswith("¿Cómo lo hicimos?")
    assert messages[-1]["buttons"][4]["title"] == "5 - Excelente"


async def test_a_score_then_a_comment_are_stored():
    asked = {"survey_asked": "request:R-ABC123"}
    tracker = make_tracker('/rate_service{"score": 4}', "rate_service", asked, None, entities=RATE_4)
    messages, slots = await run(ActionRateService(), tracker)
    assert messages[0]["text"].startswith("Thank you! Anything to add?")
    (answer,) = await stored()
    assert (answer.score, answer.subject, answer.channel, answer.language) == (4, "request:R-ABC123", "rest", "en")
    assert slots["survey_answer"] == answer.id

    commented = {**asked, "survey_answer": answer.id}
    tracker = make_tracker("the crew came fast", "nlu_fallback", commented, None)
    messages, _ = await run(ActionSaveSurveyComment(), tracker)
    assert messages[0]["text"].startswith("Thanks, the city's team will read it")
    assert [a.comment for a in await stored()] == ["the crew came fast"]


async def test_a_skip_stores_no_comment():
    asked = {"survey_asked": "handoff:7", "survey_answer": None}
    events = asked_then("I give you a 3", about="handoff:7")
    _, slots = await run(
        ActionRateService(), make_tracker("I give you a 3", "rate_service", asked, None, events=events)
    )
    for text, intent in (("skip", "deny"), ("/deny", "deny"), ("omitir", "cancel")):
        commented = {**asked, "survey_answer": slots["survey_answer"]}
        messages, _ = await run(ActionSaveSurveyComment(), make_tracker(text, intent, commented, None))
        assert messages[0]["text"].startswith("OK, thanks for your score")
    assert [(a.score, a.comment) for a in await stored()] == [(3, None)]


async def test_a_score_is_taken_once_and_only_when_asked():
    never_asked = make_tracker('/rate_service{"score": 5}', "rate_service", {}, None, entities=RATE_4)
    messages, slots = await run(ActionRateService(), never_asked)
    answered = {"survey_asked": "request:R-ABC123", "survey_answer": 12}
    again, _ = await run(ActionRateService(), make_tracker("5", "rate_service", answered, None, entities=RATE_4))
    assert messages[0]["text"] == again[0]["text"] == "Thanks! What else can I help you with?"
    assert not slots and await stored() == []


async def test_a_reply_without_a_score_asks_again():
    asked = {"survey_asked": "request:R-ABC123"}
    tracker = make_tracker("great", "rate_service", asked, None, events=asked_then("great"))
    messages, slots = await run(ActionRateService(), tracker)
    assert messages[0]["text"] == "Please choose a score from 1 to 5." and len(messages[0]["buttons"]) == 5
    assert not slots and await stored() == []


@pytest.mark.parametrize(
    "text,intent,score",
    [
        ("4", "nlu_fallback", 4),
        ("I'd give it a 5", "affirm", 5),
        ("I'd give it a 5", "deny", 5),
        ("5 stars", "bot_challenge", 5),
        ("five stars", "rate_service", 5),
        ("le doy un cinco", "rate_service", 5),
        ("dos de cinco", "out_of_scope", 2),
    ],
)
async def test_a_typed_score_is_stored_then_a_comment_asked(text: str, intent: str, score: int):
    """Whatever the NLU took the typed score for: bot/rasa_ext/patches/survey_scores.py runs the action for it."""
    asked = {"survey_asked": "request:R-ABC123", "survey_answer": None}
    tracker = make_tracker(text, intent, asked, None, events=asked_then(text), confidence=0.4)
    messages, slots = await run(ActionRateService(), tracker)
    assert messages[0]["text"].startswith("Thank you! Anything to add?")
    (answer,) = await stored()
    assert (answer.score, answer.subject) == (score, "request:R-ABC123") and slots["survey_answer"] == answer.id


@pytest.mark.parametrize("text,intent", [("4", "nlu_fallback"), ("le doy un cinco", "rate_service")])
async def test_a_score_typed_in_a_later_message_is_not_the_score(text: str, intent: str):
    """Only the first message after the question: a later "4" answers something else (bot/survey/replies.py)."""
    asked = {"survey_asked": "request:R-ABC123", "survey_answer": None}
    tracker = make_tracker(text, intent, asked, None, events=asked_then("where do I pay a ticket?", text))
    messages, slots = await run(ActionRateService(), tracker)
    assert messages[0]["text"] == "Thanks! What else can I help you with?"
    assert not slots and await stored() == []


async def test_a_button_pressed_in_a_later_message_is_the_score():
    asked = {"survey_asked": "request:R-ABC123", "survey_answer": None}
    pressed = '/rate_service{"score": 4}'
    events = asked_then("where do I pay a ticket?", pressed)
    messages, _ = await run(
        ActionRateService(), make_tracker(pressed, "rate_service", asked, None, entities=RATE_4, events=events)
    )
    assert messages[0]["text"].startswith("Thank you! Anything to add?")
    assert [a.score for a in await stored()] == [4]
