"""Replies to the summary in either language, and buttons whose payloads read the same in every language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.languages import city_languages
from bot.i18n.messages import messages
from bot.open311.models import ServiceAttribute, ServiceDefinition
from bot.reports.corrections import change_buttons, confirm_buttons, read_confirmation
from bot.reports.draft import ReportDraft
from bot.reports.questions import Wording
from tests.support.reports import use_spanish_riverton

SIZES = ["small (smaller than a dinner plate)", "medium (up to a car tire)", "large (bigger than a car tire)"]
DEFINITION = ServiceDefinition(
    service_code="POTHOLE",
    attributes=[
        ServiceAttribute(
            code="size",
            datatype="singlevaluelist",
            required=True,
            description="How big is it?",
            values=[(v, v) for v in SIZES],
        ),
        ServiceAttribute(code="pole_number", datatype="string", required=False, description="Pole number"),
    ],
)
DRAFT = ReportDraft(
    service_code="POTHOLE",
    service_name="Pothole",
    attributes={"size": SIZES[0], "pole_number": None},
    location="40 Oak Avenue",
    description="hoyo profundo",
    contact_text="anonymous",
    language="es",
)


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_spanish_riverton(monkeypatch, tmp_path)


def read(text: str, intent: str = "inform", language: str = "es"):
    return read_confirmation(text, intent, DRAFT, DEFINITION, Wording(messages(language), "POTHOLE"))


@pytest.mark.parametrize("said", ["sí", "Si", "claro", "así es", "dale", "ándale", "sí, envíelo"])
def test_spanish_yes_sends_it(said):
    assert read(said).kind == "confirm"


@pytest.mark.parametrize("said", ["no", "nel", "cambiar algo"])
def test_spanish_no_asks_what_to_change(said):
    assert read(said).kind == "ask_what"


def test_a_spanish_sentence_with_an_address_corrects_the_location():
    reply = read("no, es en 12 Elm St")
    assert reply.kind == "correct" and reply.slots["location"] == "12 Elm St"


@pytest.mark.parametrize(
    "said, cleared",
    [("cambiar la dirección", "location"), ("la descripción está mal", "description"), ("el correo", "contact")],
)
def test_naming_a_part_in_spanish_clears_it(said, cleared):
    reply = read(said)
    assert reply.kind == "correct" and reply.slots[cleared] is None


@pytest.mark.parametrize("said", ["el tamaño está mal", "cambiar el tamano", "the size is wrong"])
def test_naming_an_attribute_by_its_name_in_a_city_language_clears_that_answer(said):
    reply = read(said)
    assert reply.kind == "correct" and "size" not in reply.slots["attributes"]
    assert reply.slots["attributes"] == {"pole_number": None}


def test_the_wrong_problem_type_clears_the_service_and_its_answers():
    reply = read("el tipo de problema está mal")
    assert reply.slots["service_code"] is None and reply.slots["attributes"] == {}


def test_a_spanish_choice_in_a_sentence_corrects_that_answer_with_the_back_office_key():
    reply = read("no, es grande")
    assert reply.kind == "correct" and reply.slots["attributes"]["size"] == SIZES[2]


@pytest.mark.parametrize("language", city_languages())
def test_every_button_under_the_summary_means_the_same_in_every_language(language):
    wording = Wording(messages(language), "POTHOLE")
    sent = {button["title"]: button["payload"] for button in confirm_buttons(wording)}
    send, change, cancel = sent.values()
    assert read_confirmation(send, "affirm", DRAFT, DEFINITION, wording).kind == "confirm"
    assert read_confirmation(change, "deny", DRAFT, DEFINITION, wording).kind == "ask_what"
    assert cancel == "/cancel"
    assert confirm_buttons(Wording(messages("en"), "POTHOLE"))[0]["payload"] == send  # payloads do not depend on it


def test_change_buttons_are_titled_in_spanish_and_clear_their_own_part():
    wording = Wording(messages("es"), "POTHOLE")
    buttons = change_buttons(DEFINITION, wording)
    assert [b["title"] for b in buttons] == [
        "Ubicación",
        "Descripción",
        "Tamaño",
        "Pole number",
        "Datos de contacto",
        "Enviarlo así",
    ]
    assert [b["payload"] for b in buttons] == [
        b["payload"] for b in change_buttons(DEFINITION, Wording(messages("en"), "POTHOLE"))
    ]
    cleared = [read_confirmation(b["payload"], None, DRAFT, DEFINITION, wording).slots for b in buttons[:-1]]
    assert cleared[0]["location"] is None and cleared[1]["description"] is None
    assert "size" not in cleared[2]["attributes"] and "pole_number" not in cleared[3]["attributes"]
    assert cleared[4]["contact"] is None
    assert read_confirmation(buttons[-1]["payload"], "affirm", DRAFT, DEFINITION, wording).kind == "confirm"


def test_english_change_buttons_are_unchanged():
    titles = [b["title"] for b in change_buttons(DEFINITION, Wording(messages("en"), "POTHOLE"))]
    assert titles == ["Location", "Description", "Size", "Pole number", "Contact details", "Send it as it is"]


def test_no_payload_switches_a_spanish_readers_language():
    """A button's payload arrives as the resident's message: it must never read as a sentence in another language."""
    from bot.i18n.choice import Turn, decide
    from bot.reports.questions import SKIP_PAYLOAD

    wording = Wording(messages("es"), "POTHOLE")
    payloads = [b["payload"] for b in confirm_buttons(wording) + change_buttons(DEFINITION, wording)] + [SKIP_PAYLOAD]
    assert {payload: decide(Turn(payload, remembered="es")) for payload in payloads} == {p: "es" for p in payloads}
