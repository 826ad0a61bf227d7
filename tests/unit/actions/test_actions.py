"""Custom actions run against tracker fixtures, with the reference Open311 server over HTTP."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleMisunderstanding, ActionRequestHuman
from actions.report_form import (
    ActionAskAttributeValue,
    ActionAskConfirm,
    ActionAskDuplicateChoice,
    ActionAskServiceCode,
    ActionSubmitReport,
    ValidateServiceRequestForm,
)
from actions.status import ActionCheckStatus, ValidateStatusForm
from bot.db.contacts import remember_contact
from bot.db.engine import reset_database
from bot.db.fallbacks import Fallback, fallback_for
from bot.open311.client import reset_client_from_env
from bot.open311.store import RequestStore
from bot.process.procs import PROJECT_ROOT
from bot.reports.directory import reset_directory
from bot.reports.outbox import get as outbox_item
from tests.support.reports import use_spanish_riverton

DOMAIN: Dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
FORM = "service_request_form"
SIZE_LARGE = "large (bigger than a car tire)"


@pytest.fixture(autouse=True)
async def back_office(open311_server, monkeypatch, tmp_path):
    """Point the actions at the test's reference server, a fresh client and cache, and a fresh database."""
    monkeypatch.setenv("OPEN311_URL", open311_server.base_url)
    monkeypatch.setenv("OPEN311_API_KEY", open311_server.api_key)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    reset_directory()
    old = reset_client_from_env()
    if old is not None:
        await old.aclose()
    yield open311_server
    reset_directory()
    reset_database()
    client = reset_client_from_env()
    if client is not None:
        await client.aclose()


def make_tracker(
    text: str,
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = FORM,
    requested_slot: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    confidence: float = 0.95,
) -> Tracker:
    """A tracker as the Rasa server sends it to the action server."""
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id="test-resident",
        slots=all_slots,
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, slot_events(events)


async def test_a_report_intent_starts_a_clean_form_for_its_service():
    stale = {"location": "old place", "attributes": {"size": "small"}}
    tracker = make_tracker("I want to report a pothole", intent="report_pothole", slots=stale, active_loop=None)
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["service_code"] == "POTHOLE"
    assert slots["location"] is None and slots["attributes"] is None
    assert slots["requested_slot"] == "attribute_value"


async def test_an_opening_with_an_address_prefills_location_and_description():
    text = "there is a deep pothole in front of 221 Baker Street"
    tracker = make_tracker(text, intent="report_pothole", active_loop=None)
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["location"] == "221 Baker Street"
    assert slots["description"] == text


async def test_a_free_text_answer_to_a_list_question():
    tracker = make_tracker("big one", slots={"service_code": "POTHOLE"}, requested_slot="attribute_value")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert messages == []
    assert slots["attributes"] == {"size": SIZE_LARGE}
    assert slots["requested_slot"] == "attribute_value"  # the optional lane question is next


async def test_an_unclear_answer_is_asked_again():
    tracker = make_tracker("purple", slots={"service_code": "POTHOLE"}, requested_slot="attribute_value")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert "didn't get that" in messages[0]["text"]
    assert slots["attribute_value"] is None and slots["requested_slot"] == "attribute_value"


async def test_an_faq_mid_form_is_not_taken_as_an_answer():
    tracker = make_tracker(
        "when is city hall open", intent="faq", slots={"service_code": "POTHOLE"}, requested_slot="attribute_value"
    )
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert "attribute_value" not in slots and "attributes" not in slots


async def test_a_choice_that_reads_like_a_city_question_is_still_an_answer():
    tracker = make_tracker(
        "recycling", intent="faq", slots={"service_code": "MISSED_TRASH"}, requested_slot="attribute_value"
    )
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["attributes"] == {"bin_type": "recycling"}


async def test_an_address_that_reads_like_a_command_is_still_the_location():
    tracker = make_tracker(
        "99 Cancel Road",
        intent="cancel",
        slots={"service_code": "POTHOLE", "attributes": {"size": "small"}},
        requested_slot="location",
    )
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["location"] == "99 Cancel Road"


async def test_the_next_question_comes_from_the_service_definition():
    tracker = make_tracker("", slots={"service_code": "POTHOLE", "attributes": {"size": SIZE_LARGE}})
    messages, _ = await run(ActionAskAttributeValue(), tracker)
    assert messages[0]["text"].startswith("Where on the road?")
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "traffic lane",
        "bike lane",
        "crosswalk",
        "shoulder",
        "Skip",
    ]


FULL_REPORT = {
    "service_code": "POTHOLE",
    "attributes": {"size": SIZE_LARGE, "lane": None},
    "location": "40 Oak Avenue",
    "description": "deep hole",
    "contact": "anonymous",
}


async def test_the_summary_reads_back_every_answer():
    messages, _ = await run(ActionAskConfirm(), make_tracker("", slots=FULL_REPORT))
    text = messages[0]["text"]
    for expected in (
        "Service: Pothole",
        f"How big is it: {SIZE_LARGE}",
        "Where on the road: (skipped)",
        "Location: 40 Oak Avenue",
        "Contact: anonymous",
    ):
        assert expected in text


async def test_a_correction_in_the_reply_to_the_summary():
    tracker = make_tracker("no, it's 12 Elm Street", intent="deny", slots=FULL_REPORT, requested_slot="confirm")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["location"] == "12 Elm Street"
    assert slots["confirm"] is None
    assert "updated" in messages[0]["text"]


async def test_a_plain_no_asks_what_to_change():
    tracker = make_tracker("no", intent="deny", slots=FULL_REPORT, requested_slot="confirm")
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["awaiting_change"] is True and slots["confirm"] is None
    messages, _ = await run(ActionAskConfirm(), make_tracker("no", slots={**FULL_REPORT, "awaiting_change": True}))
    assert "What would you like to change" in messages[0]["text"]


async def test_yes_confirms_and_submit_files_with_open311(back_office):
    tracker = make_tracker("yes", intent="affirm", slots=FULL_REPORT, requested_slot="confirm")
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["confirm"] is True
    messages, slots = await run(ActionSubmitReport(), make_tracker("yes", slots={**FULL_REPORT, "confirm": True}))
    assert "request number is" in messages[0]["text"] and "(your reference: R-" in messages[0]["text"]
    assert slots["service_code"] is None and slots["last_request_id"]
    async with back_office.client() as client:
        filed = await client.get_request(slots["last_request_id"])
    assert filed.service_code == "POTHOLE" and filed.address == "40 Oak Avenue"


async def test_a_back_office_refusal_is_explained_and_kept(monkeypatch):
    monkeypatch.setenv("OPEN311_API_KEY", "wrong-key")
    reset_client_from_env()
    messages, slots = await run(ActionSubmitReport(), make_tracker("yes", slots={**FULL_REPORT, "confirm": True}))
    assert "didn't accept" in messages[0]["text"] and "311" in messages[0]["text"]
    item = await outbox_item(slots["last_request_id"])
    assert item.state == "rejected" and item.resident_told


async def test_a_back_office_that_is_down_gives_a_reference_at_once(monkeypatch):
    monkeypatch.setenv("OPEN311_URL", "http://127.0.0.1:9/open311/v2")  # nothing listens there
    reset_client_from_env()
    messages, slots = await run(ActionSubmitReport(), make_tracker("yes", slots={**FULL_REPORT, "confirm": True}))
    reference = slots["last_request_id"]
    assert reference.startswith("R-") and f"saved with reference {reference}" in messages[0]["text"]
    item = await outbox_item(reference)
    assert item.state == "pending" and item.attempts == 1 and item.fields["address_string"] == "40 Oak Avenue"


async def test_a_phone_given_on_messenger_is_where_updates_go_after_metas_window_and_the_resident_is_told():
    await remember_contact("test-resident", "messenger", "7001")
    report = {**FULL_REPORT, "contact": "Ana, (555) 010-2233", "confirm": True}
    messages, _ = await run(ActionSubmitReport(), make_tracker("yes", slots=report))
    assert "request number is" in messages[0]["text"]
    assert messages[1]["text"].startswith("If we can't reach you here (more than 24 hours after your last message)")
    assert "+15550102233" in messages[1]["text"] and "STOP" in messages[1]["text"]
    assert await fallback_for("test-resident") == Fallback("sms", "+15550102233")


async def test_a_phone_given_on_a_channel_without_a_window_is_only_the_citys(back_office):
    await remember_contact("test-resident", "telegram", "7001")
    report = {**FULL_REPORT, "contact": "Ana, (555) 010-2233", "confirm": True}
    messages, _ = await run(ActionSubmitReport(), make_tracker("yes", slots=report))
    assert "request number is" in messages[0]["text"] and "STOP" not in str(messages)
    assert await fallback_for("test-resident") is None


async def test_no_phone_or_one_that_cannot_be_texted_remembers_nothing():
    await remember_contact("test-resident", "instagram", "instagram:7001")
    for contact in ("anonymous", "ana@example.org", "ana, 010-2233"):
        report = {**FULL_REPORT, "contact": contact, "confirm": True}
        messages, _ = await run(ActionSubmitReport(), make_tracker("yes", slots=report))
        assert "request number is" in messages[0]["text"] and "STOP" not in str(messages), contact
    assert await fallback_for("test-resident") is None


async def test_a_refused_report_takes_no_phone_for_updates(monkeypatch):
    monkeypatch.setenv("OPEN311_API_KEY", "wrong-key")
    reset_client_from_env()
    await remember_contact("test-resident", "messenger", "7001")
    report = {**FULL_REPORT, "contact": "Ana, (555) 010-2233", "confirm": True}
    messages, _ = await run(ActionSubmitReport(), make_tracker("yes", slots=report))
    assert "didn't accept" in messages[0]["text"] and "STOP" not in str(messages)
    assert await fallback_for("test-resident") is None


async def test_status_of_an_unknown_request():
    messages, _ = await run(ActionCheckStatus(), make_tracker("", slots={"request_id": "987654"}, active_loop=None))
    assert "couldn't find a request with the number 987654" in messages[0]["text"]


async def test_status_form_takes_the_id_from_the_entity_or_the_text():
    with_entity = make_tracker(
        "status of 1042 please",
        intent="check_status",
        active_loop=None,
        entities=[{"entity": "request_id", "value": "1042"}],
    )
    _, slots = await run(ValidateStatusForm(), with_entity)
    assert slots["request_id"] == "1042"
    malformed = make_tracker("the tree one", active_loop="status_form", requested_slot="request_id")
    messages, slots = await run(ValidateStatusForm(), malformed)
    assert "doesn't look like a request number" in messages[0]["text"]
    assert slots["requested_slot"] is None


def user_event(intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


async def test_one_misunderstanding_explains_two_offer_a_person():
    once = make_tracker(
        "blah", intent="out_of_scope", active_loop=None, events=[user_event("greet"), user_event("out_of_scope")]
    )
    messages, _ = await run(ActionHandleMisunderstanding(), once)
    assert "can't help" in messages[0]["text"] and not messages[0]["buttons"]
    twice = make_tracker(
        "blah", intent="nlu_fallback", active_loop=None, events=[user_event("out_of_scope"), user_event("nlu_fallback")]
    )
    messages, _ = await run(ActionHandleMisunderstanding(), twice)
    assert "(555) 010-0311" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/request_human"


async def test_asking_for_a_person_gives_the_city_contacts():
    messages, _ = await run(ActionRequestHuman(), make_tracker("agent", intent="request_human", active_loop=None))
    assert "311" in messages[0]["text"] and "200 Main Street" in messages[0]["text"]


# --- A resident who reads Spanish (the `language` slot is "es") ------------------------


@pytest.fixture
def spanish(city, monkeypatch, tmp_path):
    """Riverton with the test's own Spanish translations of a few services."""
    use_spanish_riverton(monkeypatch, tmp_path)


def in_spanish(text: str, **options: Any) -> Tracker:
    slots = {"language": "es", **(options.pop("slots", None) or {})}
    return make_tracker(text, slots=slots, **options)


async def test_the_service_list_in_spanish_sends_codes(spanish):
    messages, _ = await run(ActionAskServiceCode(), in_spanish("", requested_slot="service_code"))
    assert messages[0]["text"] == "¿Qué tipo de problema quiere reportar?"
    pothole = next(b for b in messages[0]["buttons"] if b["payload"] == "POTHOLE")
    assert pothole["title"] == "Bache"
    _, slots = await run(ValidateServiceRequestForm(), in_spanish("bache", requested_slot="service_code"))
    assert slots["service_code"] == "POTHOLE"


async def test_a_spanish_question_and_a_spanish_answer_filed_as_the_back_offices_key(spanish):
    messages, _ = await run(ActionAskAttributeValue(), in_spanish("", slots={"service_code": "POTHOLE"}))
    assert messages[0]["text"] == "¿Qué tan grande es?"
    assert [b["title"] for b in messages[0]["buttons"]][2] == "grande (más grande que una llanta de carro)"
    tracker = in_spanish("grande", slots={"service_code": "POTHOLE"}, requested_slot="attribute_value")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert messages == [] and slots["attributes"] == {"size": SIZE_LARGE}
    tracker = in_spanish("morado", slots={"service_code": "POTHOLE"}, requested_slot="attribute_value")
    messages, _ = await run(ValidateServiceRequestForm(), tracker)
    assert messages[0]["text"].startswith("Disculpe, no le entendí. Por favor, elija una de estas opciones: 1. pequeño")


async def test_an_optional_question_skipped_in_spanish(spanish):
    answered = {"service_code": "POTHOLE", "attributes": {"size": SIZE_LARGE}}
    tracker = in_spanish("omitir", slots=answered, requested_slot="attribute_value")
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["attributes"] == {"size": SIZE_LARGE, "lane": None}


async def test_the_spanish_summary_and_its_buttons(spanish):
    messages, _ = await run(ActionAskConfirm(), in_spanish("", slots=FULL_REPORT))
    text = messages[0]["text"]
    for expected in (
        "Este es su reporte:",
        "- Servicio: Bache",
        "- Qué tan grande es: grande (más grande que una llanta de carro)",
        "- En qué parte de la calle está: (omitida)",
        "- Ubicación: 40 Oak Avenue",
        "- Descripción: deep hole",  # as the resident wrote it
        "- Contacto: anónimo",
        "¿Lo envío a la Ciudad?",
    ):
        assert expected in text
    assert [(b["title"], b["payload"]) for b in messages[0]["buttons"]] == [
        ("Sí, envíelo", "/affirm"),
        ("Cambiar algo", "/deny"),
        ("Cancelar", "/cancel"),
    ]


async def test_spanish_corrections_at_the_summary(spanish):
    tracker = in_spanish("cambiar la dirección", slots=FULL_REPORT, requested_slot="confirm")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["location"] is None and slots["confirm"] is None and messages == []
    tracker = in_spanish("no, es en 12 Elm St", intent="deny", slots=FULL_REPORT, requested_slot="confirm")
    messages, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["location"] == "12 Elm St" and messages[0]["text"] == "Listo, actualicé su reporte."
    tracker = in_spanish("mmm", slots=FULL_REPORT, requested_slot="confirm")
    messages, _ = await run(ValidateServiceRequestForm(), tracker)
    assert messages[0]["text"].startswith('Disculpe, no le entendí. Diga "sí"')


async def test_si_files_a_spanish_report_with_the_back_offices_codes(spanish, back_office):
    tracker = in_spanish("sí", intent="affirm", slots=FULL_REPORT, requested_slot="confirm")
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["confirm"] is True
    report = {**FULL_REPORT, "description": "hoyo muy hondo", "confirm": True}
    messages, slots = await run(ActionSubmitReport(), in_spanish("sí", slots=report))
    text = messages[0]["text"]
    assert text.startswith("¡Gracias! Su reporte de bache quedó registrado. Su número de solicitud es ")
    assert "(Departamento de Obras Públicas)" in text
    async with RequestStore(back_office.db_path) as store:
        filed = await store.get(slots["last_request_id"])
    assert filed.service_code == "POTHOLE" and filed.attributes == {"size": SIZE_LARGE}
    assert filed.description.startswith("hoyo muy hondo [ref R-") and filed.description.endswith("[lang es]")


async def test_the_sms_fallback_notice_in_spanish(spanish):
    await remember_contact("test-resident", "messenger", "7001")
    report = {**FULL_REPORT, "contact": "Ana, +1 555 010 2233", "confirm": True}
    messages, _ = await run(ActionSubmitReport(), in_spanish("sí", slots=report))
    assert messages[1]["text"].startswith("Si no podemos contactarle por aquí")
    assert "+15550102233" in messages[1]["text"]


async def test_a_back_office_that_is_down_keeps_a_spanish_report_in_spanish(spanish, monkeypatch):
    monkeypatch.setenv("OPEN311_URL", "http://127.0.0.1:9/open311/v2")  # nothing listens there
    reset_client_from_env()
    messages, slots = await run(ActionSubmitReport(), in_spanish("sí", slots={**FULL_REPORT, "confirm": True}))
    reference = slots["last_request_id"]
    assert f"quedó guardado con la referencia {reference}" in messages[0]["text"]
    item = await outbox_item(reference)
    assert item.language == "es" and item.fields["attributes"] == {"size": SIZE_LARGE}


async def test_status_in_spanish(spanish):
    messages, _ = await run(ActionCheckStatus(), in_spanish("", slots={"request_id": "987654"}, active_loop=None))
    assert messages[0]["text"].startswith("No encontré ninguna solicitud con el número 987654.")
    malformed = in_spanish("el del árbol", active_loop="status_form", requested_slot="request_id")
    messages, _ = await run(ValidateStatusForm(), malformed)
    assert messages[0]["text"].startswith("Eso no parece un número de solicitud.")


async def test_a_duplicate_offered_in_spanish_and_followed_with_its_button(spanish, back_office):
    async with back_office.client() as client:
        receipt = await client.create_request(
            "POTHOLE", address_string="40 Oak Avenue", attributes={"size": SIZE_LARGE}
        )
    waiting = {**FULL_REPORT, "duplicate_of": receipt.service_request_id}
    messages, _ = await run(ActionAskDuplicateChoice(), in_spanish("", slots=waiting))
    assert messages[0]["text"].startswith(
        f"Parece que esto ya se reportó. La solicitud {receipt.service_request_id} (Bache"
    )
    follow = messages[0]["buttons"][0]
    assert follow["title"] == "Darle seguimiento"
    tracker = in_spanish(follow["payload"], intent="affirm", slots=waiting, requested_slot="duplicate_choice")
    _, slots = await run(ValidateServiceRequestForm(), tracker)
    assert slots["duplicate_choice"] == "follow"
    messages, _ = await run(ActionSubmitReport(), in_spanish("", slots={**waiting, "duplicate_choice": "follow"}))
    assert messages[0]["text"].startswith(
        f"Listo, ahora le da seguimiento a la solicitud {receipt.service_request_id}."
    )
