"""The survey as staff resolve a handoff: the events that ask it, when the tracker allows it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional

from bot.survey.after_handoff import handoff_survey, last_resident_message

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def tracker(wrote: datetime, asked: Optional[str] = None, form: Optional[str] = None) -> Dict[str, Any]:
    return {
        "slots": {"survey_asked": asked, "language": "es"},
        "active_loop": {"name": form} if form else {},
        "events": [
            {"event": "user", "text": "hola", "timestamp": wrote.timestamp()},
            {"event": "bot", "text": "Un momento", "timestamp": wrote.timestamp() + 1},
        ],
    }


def test_the_question_and_the_slot_that_keeps_it_to_once() -> None:
    survey = handoff_survey(tracker(NOW - timedelta(minutes=5)), 12, "whatsapp", "es", NOW)
    assert survey is not None and survey.text.startswith("¿Cómo lo hicimos?")
    question, asked, answer = survey.events
    assert question["event"] == "bot" and question["data"]["buttons"] == survey.buttons
    assert (asked["name"], asked["value"]) == ("survey_asked", "handoff:12")
    assert (answer["name"], answer["value"]) == ("survey_answer", None)


def test_not_asked_twice_in_a_form_or_outside_the_window() -> None:
    assert handoff_survey(tracker(NOW, asked="request:R-ABC123"), 12, "sms", "es", NOW) is None
    assert handoff_survey(tracker(NOW, form="service_request_form"), 12, "sms", "es", NOW) is None
    assert handoff_survey(tracker(NOW - timedelta(hours=25)), 12, "whatsapp", "es", NOW) is None
    assert handoff_survey(tracker(NOW - timedelta(hours=25)), 12, "messenger", "es", NOW) is None
    assert handoff_survey(tracker(NOW - timedelta(hours=1)), 12, "messenger", "es", NOW) is not None
    assert handoff_survey(tracker(NOW - timedelta(hours=25)), 12, "sms", "es", NOW) is not None


def test_the_residents_last_message() -> None:
    wrote = NOW - timedelta(hours=3)
    assert last_resident_message(tracker(wrote)) == wrote
    assert last_resident_message({"events": []}) is None
