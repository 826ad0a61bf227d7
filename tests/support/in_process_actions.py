"""Custom actions for the in-process action tests: each shows one way an action can answer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

PRIVATE_DETAIL = "12 Elm St, call 555-0100"


class ActionTestAnswer(Action):
    """Says something, sets a slot, and tries to change the tracker and domain it was given."""

    def name(self) -> str:
        return "action_test_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        dispatcher.utter_message(text=f"seen {tracker.get_slot('draft')['address']}")
        tracker.slots["draft"]["address"] = "changed by the action"
        domain.setdefault("slots", {})["injected"] = {}
        return [SlotSet("answered", True)]


class ActionTestRejected(Action):
    def name(self) -> str:
        return "action_test_rejected"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        raise ActionExecutionRejection(self.name(), "not this time")


class ActionTestFailing(Action):
    def name(self) -> str:
        return "action_test_failing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        raise ValueError(PRIVATE_DETAIL)


class ActionTestNotJson(Action):
    def name(self) -> str:
        return "action_test_not_json"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [SlotSet("answered", {1, 2})]


class ActionTestWhere(Action):
    """Tells the thread it runs on."""

    def name(self) -> str:
        return "action_test_where"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        return [SlotSet("answered", threading.current_thread().name)]


class ActionTestSlow(Action):
    """Waits longer than any test does; `cancelled` is set when it is stopped."""

    cancelled = threading.Event()

    def name(self) -> str:
        return "action_test_slow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            ActionTestSlow.cancelled.set()
            raise
        return []
