"""The service request form: which service, its questions, where, what, who, confirm.

The questions come from the back office's service definition at run time, so the
same form serves any city's catalog. Every text is in the resident's language
(the `language` slot, bot/i18n); the back office's questions and choices are
shown through the city file's translations, and the report is filed with the
back office's own codes and keys.
"""

from __future__ import annotations

import abc
import functools
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    WINDOWED_CHANNELS,
    form_is_active,
    is_interruption,
    latest_intent,
    latest_text,
    resident_language,
    resident_messages,
    shared_coordinates,
    shared_media_url,
)
from actions.free_text import PENDING, ask_if_unsure, free_text_answer
from actions.survey import survey_question_events
from bot.catalog import load_city
from bot.db.contacts import contact_for
from bot.db.fallbacks import SMS, Fallback, remember_fallback
from bot.i18n.city import branding
from bot.open311.client import client_from_env
from bot.open311.models import Open311Error, ServiceDefinition
from bot.reports.answers import find_address, is_skip, parse_contact, phone_e164
from bot.reports.corrections import CHANGE_PAYLOAD, SEND_PAYLOAD, change_buttons, confirm_buttons, read_confirmation
from bot.reports.directory import directory, shown_name
from bot.reports.draft import ANONYMOUS, REPORT_SLOTS, ReportDraft
from bot.reports.duplicates import find_duplicate
from bot.reports.filing import Submission, submission_message, submit
from bot.reports.outbox import REJECTED
from bot.reports.places import read_place
from bot.reports.questions import Wording, check_answer, next_attribute, question_for
from bot.reports.status import describe_request
from bot.reports.updates.store import subscribe
from bot.reports.vocabulary import normalise, vocabulary
from bot.survey.store import REQUEST, subject

logger = logging.getLogger(__name__)

FORM = "service_request_form"
REPORT_INTENT_PREFIX = "report_"
# An opening message this long is taken as the description too.
DESCRIPTION_MIN_WORDS = 6

FOLLOW = "follow"
FILE_ANYWAY = "file"


async def duplicate_check(
    tracker: Tracker, lat: Optional[float] = None, long: Optional[float] = None, address: Optional[str] = None
) -> Dict[Text, Any]:
    """Look for an open request of the same service at the same place (once per report)."""
    code = tracker.get_slot("service_code")
    if not code or tracker.get_slot("duplicate_of") is not None:
        return {}
    found = await find_duplicate(client_from_env(), code, lat=lat, long=long, address=address)
    return {"duplicate_of": found.service_request_id if found else ""}


def ignores_cleared(method):
    """Skip validating a slot that was cleared on purpose (a new report, a correction)."""

    @functools.wraps(method)
    async def wrapper(self, value, dispatcher, tracker, domain):
        if value is None:
            return {}
        return await method(self, value, dispatcher, tracker, domain)

    return wrapper


def service_code_for_intent(intent: Optional[str]) -> Optional[str]:
    """`report_pothole` -> `POTHOLE`; None for the generic `report_problem`."""
    if not intent or not intent.startswith(REPORT_INTENT_PREFIX) or intent == "report_problem":
        return None
    return intent[len(REPORT_INTENT_PREFIX) :].upper()


async def current_definition(tracker: Tracker) -> Optional[ServiceDefinition]:
    code = tracker.get_slot("service_code")
    return await directory().definition(code) if code else None


def wording(tracker: Tracker) -> Wording:
    """The current service's questions as this resident reads them."""
    return Wording(resident_messages(tracker), tracker.get_slot("service_code") or "")


async def current_draft(tracker: Tracker) -> ReportDraft:
    code = tracker.get_slot("service_code") or ""
    return ReportDraft.from_slots(tracker.slots, service_name=await service_name(code))


async def service_name(code: str) -> str:
    """The service's name from the back office, else from the city catalog, else the code."""
    try:
        service = await directory().service(code) if code else None
        if service and service.service_name:
            return service.service_name
    except Open311Error:
        pass  # the report must still be stored while the back office is down
    known = load_city().service(code)
    return known.name if known else code


def _requested(tracker: Tracker, slot: str) -> bool:
    return form_is_active(tracker, FORM) and tracker.get_slot("requested_slot") == slot


def _answer_text(tracker: Tracker, slot: str) -> Optional[str]:
    """The latest message as the answer to `slot`, unless it asks something else."""
    if not _requested(tracker, slot) or is_interruption(tracker):
        return None
    text = latest_text(tracker)
    return text or None


class ValidateServiceRequestForm(FormValidationAction):
    """Extracts and checks every answer of the service request form."""

    def name(self) -> Text:
        return "validate_service_request_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        preset = self._start_clean(tracker) + await self._channel_details(tracker)
        try:
            return preset + await super().run(dispatcher, tracker, domain)
        except Open311Error as error:
            logger.warning("back office error during the form: %s", error)
            texts = resident_messages(tracker)
            dispatcher.utter_message(text=texts.text("reports.form.unavailable", phone=branding(texts.language).phone))
            # Keep asking the same question: the form neither ends nor loses answers.
            return preset + [SlotSet("attribute_value", None)]

    @staticmethod
    def _start_clean(tracker: Tracker) -> List[EventType]:
        """A new report forgets whatever an earlier, unfinished one left in the slots."""
        if form_is_active(tracker, FORM):
            return []
        cleared = list(REPORT_SLOTS) + ["awaiting_change", PENDING]
        # Rasa appends the old values as candidates to validate; drop them.
        while tracker.events and tracker.events[-1].get("event") == "slot":
            tracker.events.pop()
        tracker.slots.update({slot: None for slot in cleared})
        return [SlotSet(slot, None) for slot in cleared]

    @staticmethod
    async def _channel_details(tracker: Tracker) -> List[EventType]:
        """Coordinates and photos a channel attached to the message, whatever was asked."""
        details: Dict[str, Any] = {}
        coordinates = shared_coordinates(tracker)
        if coordinates:
            details.update({"latitude": coordinates[0], "longitude": coordinates[1]})
            details.update(await duplicate_check(tracker, lat=coordinates[0], long=coordinates[1]))
        media = shared_media_url(tracker)
        if media:
            details["media_url"] = media
        tracker.slots.update(details)
        return [SlotSet(slot, value) for slot, value in details.items()]

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        slots = ["service_code"]
        definition = await current_definition(tracker)
        if definition is not None and next_attribute(definition, tracker.get_slot("attributes") or {}):
            slots.append("attribute_value")
        has_coordinates = tracker.get_slot("latitude") is not None
        if not has_coordinates:
            slots.append("location")
        if tracker.get_slot("duplicate_of"):
            if tracker.get_slot("duplicate_choice") == FOLLOW:
                return []  # nothing more to ask: the resident follows the existing request
            slots.append("duplicate_choice")
        return slots + ["description", "contact", "confirm"]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        """Always choose the next question here: the list changes with the service."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet("requested_slot", next((s for s in required if tracker.slots.get(s) is None), None))

    # --- extraction: which slot does the latest message fill? -----------------

    async def extract_service_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("service_code"):
            return {}
        intent, _ = latest_intent(tracker)
        code = service_code_for_intent(intent)
        if _requested(tracker, "service_code"):
            code = await self._named_service(tracker) or code
        if code is None and _requested(tracker, "service_code") and not is_interruption(tracker):
            return {"service_code": latest_text(tracker)}  # validation explains the choices
        return {"service_code": code} if code else {}

    @staticmethod
    async def _named_service(tracker: Tracker) -> Optional[str]:
        """The service the reply to "what kind of problem?" names: a button's code, a name, a keyword."""
        text = latest_text(tracker)
        pressed = await directory().service(text)  # the service buttons send the code
        if pressed is not None:
            return pressed.service_code
        if service_code_for_intent(latest_intent(tracker)[0]):
            return None  # the intent already names it
        service = await directory().find(text, resident_language(tracker))
        if service is None and not is_interruption(tracker):
            service = await directory().find_by_keyword(text)
        return service.service_code if service else None

    async def extract_attribute_value(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if _requested(tracker, "attribute_value") and await self._asks_free_text(tracker):
            return free_text_answer(dispatcher, tracker, "attribute_value")
        text = _answer_text(tracker, "attribute_value")
        if text is None and _requested(tracker, "attribute_value"):
            # "recycling" may read like a city question, but it is one of the choices.
            text = latest_text(tracker) if await self._is_a_choice(tracker) else None
        return {"attribute_value": text} if text else {}

    @staticmethod
    async def _asks_free_text(tracker: Tracker) -> bool:
        """Whether the question asked takes the resident's own words (no list of choices)."""
        definition = await current_definition(tracker)
        attribute = next_attribute(definition, tracker.get_slot("attributes") or {}) if definition else None
        return attribute is not None and not attribute.values

    @staticmethod
    async def _is_a_choice(tracker: Tracker) -> bool:
        definition = await current_definition(tracker)
        attribute = next_attribute(definition, tracker.get_slot("attributes") or {}) if definition else None
        if attribute is None or not attribute.values:
            return False
        return check_answer(attribute, latest_text(tracker), wording(tracker)).ok

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not form_is_active(tracker, FORM):
            address = find_address(latest_text(tracker))
            return {"location": address} if address else {}
        if not _requested(tracker, "location"):
            return {}
        if find_address(latest_text(tracker)):
            # "99 Cancel Road" may read like "cancel", but a street address is the answer.
            return {"location": latest_text(tracker), PENDING: None}
        return free_text_answer(dispatcher, tracker, "location")

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not form_is_active(tracker, FORM):
            opening = latest_text(tracker)
            opening_is_a_description = not opening.startswith("/") and len(opening.split()) >= DESCRIPTION_MIN_WORDS
            return {"description": opening} if opening_is_a_description else {}
        return free_text_answer(dispatcher, tracker, "description") if _requested(tracker, "description") else {}

    async def extract_duplicate_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = _answer_text(tracker, "duplicate_choice")
        return {"duplicate_choice": text} if text else {}

    async def extract_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = _answer_text(tracker, "contact")
        return {"contact": text} if text else {}

    async def extract_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = _answer_text(tracker, "confirm")
        return {"confirm": text} if text else {}

    # --- validation: is the answer usable? -----------------------------------

    @ignores_cleared
    async def validate_service_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value and await directory().service(str(value)) is not None:
            return {"service_code": value}
        dispatcher.utter_message(text=resident_messages(tracker).text("reports.form.which_service"))
        return {"service_code": None}

    @ignores_cleared
    async def validate_attribute_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        definition = await current_definition(tracker)
        answered = dict(tracker.get_slot("attributes") or {})
        attribute = next_attribute(definition, answered) if definition else None
        if attribute is None:
            return {"attribute_value": None}
        answer = check_answer(attribute, str(value), wording(tracker))
        if not answer.ok:
            dispatcher.utter_message(text=answer.error)
            return {"attribute_value": None}
        answered[attribute.code] = None if answer.skipped else answer.value
        return {"attributes": answered, "attribute_value": None}

    @ignores_cleared
    async def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        place = read_place(str(value or "")[:200])
        if place is not None:
            return {"location": place.location[:300], **await duplicate_check(tracker, address=place.search)}
        dispatcher.utter_message(text=resident_messages(tracker).text("reports.form.need_location"))
        return {"location": None}

    @ignores_cleared
    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if len(normalise(text)) >= 2:
            return {"description": text[:1000]}
        dispatcher.utter_message(text=resident_messages(tracker).text("reports.form.need_description"))
        return {"description": None}

    @ignores_cleared
    async def validate_duplicate_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        said = normalise(str(value))
        intent, _ = latest_intent(tracker)
        words = vocabulary()
        follows = any(word in said for word in words.follow)
        files = any(word in said for word in words.file_anyway)
        if follows or (intent == "affirm" and not files):
            return {"duplicate_choice": FOLLOW}
        if files or intent == "deny":
            return {"duplicate_choice": FILE_ANYWAY}
        dispatcher.utter_message(text=resident_messages(tracker).text("reports.duplicate.retry"))
        return {"duplicate_choice": None}

    @ignores_cleared
    async def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if is_skip(text):
            return {"contact": ANONYMOUS}
        if parse_contact(text).is_empty():
            dispatcher.utter_message(text=resident_messages(tracker).text("reports.form.no_contact"))
            return {"contact": None}
        return {"contact": text[:300]}

    @ignores_cleared
    async def validate_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is True:
            return {"confirm": True}
        definition = await current_definition(tracker)
        # The summary is asked for only once the service is known (required_slots asks service_code first).
        assert definition is not None, "confirm answered before the service was known"
        draft = await current_draft(tracker)
        intent, _ = latest_intent(tracker)
        texts = resident_messages(tracker)
        reply = read_confirmation(str(value), intent, draft, definition, wording(tracker))
        if reply.kind == "confirm":
            return {"confirm": True, "awaiting_change": None}
        if reply.kind == "correct":
            if any(v is not None for v in reply.slots.values()):
                dispatcher.utter_message(text=texts.text("reports.form.updated"))
            return {**reply.slots, "confirm": None, "awaiting_change": None}
        if reply.kind == "ask_what":
            return {"confirm": None, "awaiting_change": True}
        dispatcher.utter_message(text=texts.text("reports.form.unclear_confirm"))
        return {"confirm": None}


class ActionAskServiceCode(Action):
    """Offers the back office's services when the resident hasn't said which.

    Each button shows the service's name in the resident's language and sends
    its code, which reads the same in every language.
    """

    def name(self) -> Text:
        return "action_ask_service_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        services = await directory().services()
        language = resident_language(tracker)
        buttons = [{"title": shown_name(s, language), "payload": s.service_code} for s in services]
        text = resident_messages(tracker).text("reports.ask_service")
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskAttributeValue(Action):
    """Asks the service's next unanswered question, with its choices as buttons."""

    def name(self) -> Text:
        return "action_ask_attribute_value"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        definition = await current_definition(tracker)
        attribute = next_attribute(definition, tracker.get_slot("attributes") or {}) if definition else None
        if attribute is not None and not ask_if_unsure(dispatcher, tracker, "attribute_value"):
            question = question_for(attribute, wording(tracker))
            dispatcher.utter_message(text=question.text, buttons=question.buttons)
        return []


class AskOrClarify(Action, abc.ABC):
    """Asks a free-text question (its `utter_ask_<slot>` response), or first whether an unsure reply was the answer."""

    @property
    @abc.abstractmethod
    def slot(self) -> Text:
        """The slot whose question this asks."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not ask_if_unsure(dispatcher, tracker, self.slot):
            dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return []


class ActionAskLocation(AskOrClarify):
    slot = "location"


class ActionAskDescription(AskOrClarify):
    slot = "description"


class ActionAskDuplicateChoice(Action):
    """Shows the request that looks like the same problem and offers to follow it."""

    def name(self) -> Text:
        return "action_ask_duplicate_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = await client_from_env().get_request(tracker.get_slot("duplicate_of"))
        if request is None:
            return [SlotSet("duplicate_of", ""), SlotSet("duplicate_choice", FILE_ANYWAY)]
        texts = resident_messages(tracker)
        dispatcher.utter_message(
            text=texts.text("reports.duplicate.offer", request=describe_request(request, texts)),
            buttons=[
                {"title": texts.text("reports.duplicate.follow"), "payload": SEND_PAYLOAD},
                {"title": texts.text("reports.duplicate.file_anyway"), "payload": CHANGE_PAYLOAD},
            ],
        )
        return []


class ActionAskConfirm(Action):
    """Reads the report back before filing, or asks which part to change."""

    def name(self) -> Text:
        return "action_ask_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        definition = await current_definition(tracker)
        if definition is None:
            return []
        asking = wording(tracker)
        if tracker.get_slot("awaiting_change"):
            dispatcher.utter_message(
                text=asking.texts.text("reports.ask_change"), buttons=change_buttons(definition, asking)
            )
            return []
        draft = await current_draft(tracker)
        dispatcher.utter_message(text=draft.summary(definition, asking.texts), buttons=confirm_buttons(asking))
        return []


async def remember_phone_for_updates(tracker: Tracker, draft: ReportDraft, submission: Submission) -> Optional[str]:
    """On Messenger and Instagram, the phone a report gives gets its updates once Meta's 24-hour window closes.

    Remembered for the conversation (bot/db/fallbacks.py); the notice that tells
    the resident so, or None (another channel, no phone that can be texted, a
    report the back office refused).
    """
    phone = phone_e164(draft.contact.phone or "")
    if phone is None or submission.item.state == REJECTED:
        return None
    contact = await contact_for(tracker.sender_id)
    if contact is None or contact.channel not in WINDOWED_CHANNELS:
        return None
    await remember_fallback(tracker.sender_id, Fallback(SMS, phone))
    return resident_messages(tracker).text("reports.sms_fallback", phone=phone)


class ActionSubmitReport(Action):
    """Stores the confirmed report, sends it to Open311, and gives the resident the reference."""

    def name(self) -> Text:
        return "action_submit_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reset = [SlotSet(slot, None) for slot in REPORT_SLOTS]
        if tracker.get_slot("duplicate_choice") == FOLLOW and tracker.get_slot("duplicate_of"):
            request = await client_from_env().get_request(tracker.get_slot("duplicate_of"))
            if request is not None:
                await subscribe(tracker.sender_id, request)
                dispatcher.utter_message(
                    text=resident_messages(tracker).text("reports.following", request_id=request.service_request_id)
                )
            return reset
        if tracker.get_slot("confirm") is not True:
            return []
        draft = await current_draft(tracker)
        submission = await submit(draft, tracker.sender_id, client_from_env())
        dispatcher.utter_message(text=submission_message(submission, draft, load_city()))
        notice = await remember_phone_for_updates(tracker, draft, submission)
        if notice:
            dispatcher.utter_message(text=notice)
        survey = await survey_question_events(dispatcher, tracker, subject(REQUEST, submission.item.reference))
        filed = SlotSet("last_request_id", submission.item.service_request_id or submission.item.reference)
        return [*reset, filed, *survey]


class ActionResetReport(Action):
    """Forgets the report in progress (after a cancel or an emergency)."""

    def name(self) -> Text:
        return "action_reset_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet(slot, None) for slot in (*REPORT_SLOTS, "awaiting_change", PENDING)]
