"""The survey after staff resolve a handoff: the events that ask it, read from the conversation's tracker.

The console resolves a handoff outside any turn of the resident's (bot/handoff/service.py),
so the question is appended to the tracker as a bot message with its buttons, with the
`survey_asked` slot that keeps it to once per conversation, and sent on the resident's
channel after the closing notice. Whether it may be asked (once, not in a form, inside
the channel's window) is bot/survey/eligibility.py's decision, on the tracker as Rasa has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from bot.survey.eligibility import may_ask
from bot.survey.question import Buttons, question
from bot.survey.replies import ANSWER_SLOT, ASKED_SLOT
from bot.survey.store import HANDOFF, subject


@dataclass(frozen=True)
class HandoffSurvey:
    text: str
    buttons: Buttons
    events: List[Dict[str, Any]]  # to append to the tracker, before it resumes


def last_resident_message(tracker: Mapping[str, Any]) -> Optional[datetime]:
    """When the resident last wrote (a user event's timestamp), if ever."""
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user" and event.get("timestamp") is not None:
            return datetime.fromtimestamp(float(event["timestamp"]), tz=timezone.utc)
    return None


def handoff_survey(
    tracker: Mapping[str, Any], handoff_id: int, channel: str, language: str, now: datetime
) -> Optional[HandoffSurvey]:
    """The survey to ask as the handoff ends, or None when it may not be asked now."""
    slots = tracker.get("slots") or {}
    active_loop = (tracker.get("active_loop") or {}).get("name")
    if not may_ask(slots.get(ASKED_SLOT), active_loop, channel, last_resident_message(tracker), now):
        return None
    text, buttons = question(language)
    about = subject(HANDOFF, handoff_id)
    events: List[Dict[str, Any]] = [
        {"event": "bot", "text": text, "data": {"buttons": buttons}, "metadata": {"handoff": handoff_id}},
        {"event": "slot", "name": ASKED_SLOT, "value": about},
        {"event": "slot", "name": ANSWER_SLOT, "value": None},
    ]
    return HandoffSurvey(text, buttons, events)
