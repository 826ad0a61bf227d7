"""Status lookups: "what's happening with my request 1042?"."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import form_is_active, is_interruption, latest_text, resident_messages
from bot.open311.client import client_from_env
from bot.open311.models import Open311Error
from bot.reports.status import (
    describe_reference,
    describe_request,
    extract_request_id,
    is_local_reference,
    is_plausible_request_id,
    malformed_message,
    not_found_message,
    unavailable_message,
)

logger = logging.getLogger(__name__)

FORM = "status_form"


class ValidateStatusForm(FormValidationAction):
    """Finds the request number in the message that asked, or in the reply to our question."""

    def name(self) -> Text:
        return "validate_status_form"

    async def extract_request_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        asked = form_is_active(tracker, FORM) and tracker.get_slot("requested_slot") == "request_id"
        if form_is_active(tracker, FORM) and not asked:
            return {}
        if asked and is_interruption(tracker):
            return {}
        entities = list(tracker.get_latest_entity_values("request_id"))
        found = entities[0] if len(entities) == 1 else extract_request_id(latest_text(tracker))
        if found:
            return {"request_id": str(found).upper()}
        # A reply that holds no number ends the lookup with an explanation.
        return {"request_id": latest_text(tracker)} if asked else {}

    async def validate_request_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {}
        if is_plausible_request_id(str(value)):
            return {"request_id": str(value)}
        dispatcher.utter_message(text=malformed_message(resident_messages(tracker)))
        return {"request_id": None, "requested_slot": None}


class ActionCheckStatus(Action):
    """Looks the request up in Open311 and tells its status and notes, in the resident's language."""

    def name(self) -> Text:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request_id = tracker.get_slot("request_id")
        if not request_id:
            return []
        texts = resident_messages(tracker)
        try:
            if is_local_reference(request_id):
                dispatcher.utter_message(text=await describe_reference(request_id, client_from_env(), texts))
                return [SlotSet("request_id", None)]
            request = await client_from_env().get_request(request_id)
        except Open311Error as error:
            logger.warning("status lookup failed: %s", error)
            dispatcher.utter_message(text=unavailable_message(texts))
            return [SlotSet("request_id", None)]
        if request is None:
            dispatcher.utter_message(text=not_found_message(request_id, texts))
        else:
            dispatcher.utter_message(text=describe_request(request, texts))
        return [SlotSet("request_id", None)]
