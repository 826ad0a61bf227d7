"""Events of typical conversation turns, for tests that build trackers by hand."""

from __future__ import annotations

from typing import List

from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered


def user(intent: str, text: str = "") -> UserUttered:
    """A resident's message, already classified."""
    return UserUttered(text or intent, intent={"name": intent, "confidence": 1.0})


def form_end(form: str = "service_request_form") -> List[Event]:
    """The resident confirms; the form ends and the report is filed."""
    return [
        user("affirm"),
        ActionExecuted(form),
        SlotSet("confirm", True),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("action_submit_report"),
        ActionExecuted("action_listen"),
    ]
