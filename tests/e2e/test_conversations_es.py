"""Whole conversations in Spanish over Rasa's REST channel, against the real running assistant.

Residents write as Spanish speakers in the US do (no button payloads, no
language button): the NLU understands them, the language is detected from
their words, every reply is in Spanish, and the back office still receives its
own service codes and value keys, the description as written and `[lang es]`.
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

import httpx
import pytest

from bot.catalog import load_city
from bot.i18n.city import attribute_text
from tests.support.conversation import Conversation
from tests.support.reports import stored, unique_address

pytestmark = pytest.mark.e2e

CITY = load_city()

# For every service: how a Spanish-speaking resident opens, their answer to each
# of the service's questions (by attribute code), and the key the back office gets
# for the first required question.
SCENARIOS: Dict[str, Tuple[str, Dict[str, str], Optional[str]]] = {
    "POTHOLE": (
        "quiero reportar un hoyo en la calle",
        {"size": "es grande", "lane": "ciclovía"},
        "large (bigger than a car tire)",
    ),
    "SIDEWALK": ("la banqueta enfrente de mi casa está toda levantada", {"hazard": "levantada"}, "raised or lifted"),
    "MISSED_TRASH": ("no pasaron por la basura hoy", {"bin_type": "reciclaje", "set_out_on_time": "sí"}, "recycling"),
    "STREETLIGHT": (
        "el poste de luz de mi cuadra no prende",
        {"problem": "parpadea", "pole_number": "omitir"},
        "flickering",
    ),
    "GRAFFITI": ("quiero reportar grafiti", {"surface": "puente", "offensive": "no"}, "bridge or overpass"),
    "NOISE": (
        "los vecinos tienen la música a todo volumen",
        {"source": "música o fiesta", "happening_now": "sí"},
        "music or party",
    ),
    "ILLEGAL_DUMPING": (
        "alguien tiró un colchón viejo en el callejón",
        {"material": "muebles o colchón"},
        "furniture or mattress",
    ),
    "ABANDONED_VEHICLE": (
        "hay un carro abandonado en mi calle",
        {"plate": "ABC 1234", "days_parked": "como dos semanas"},
        None,
    ),
    "FALLEN_TREE": ("se cayó una rama grande de un árbol", {"blocking": "acera"}, "sidewalk"),
    "WATER_LEAK": ("hay una fuga de agua en la calle", {"source": "hidrante"}, "fire hydrant"),
}

LOCATION_QUESTION = "¿Dónde está?"
DESCRIPTION_QUESTION = "describa el problema"
CONTACT_QUESTION = "recibir noticias"
SUMMARY = "Este es su reporte:"


def attribute_asked(reply: str, service_code: str):
    """Which of the service's questions the bot just asked, read in Spanish, if any."""
    service = CITY.service(service_code)
    for attribute in service.attributes if service else []:
        question = attribute_text("es", service_code, attribute.code, attribute.description) or ""
        if question.strip("¿?") and question.strip("¿?") in reply:
            return attribute
    return None


def request_number(reply: str) -> str:
    match = re.search(r"Su número de solicitud es (\w[\w-]*)", reply)
    assert match, reply
    return match.group(1)


def answer_questions(talk: Conversation, reply: str, code: str, answers: Dict[str, str]) -> str:
    """Answer the service's questions until the bot asks where; each question asked once."""
    asked = []
    while (attribute := attribute_asked(reply, code)) is not None:
        assert attribute.code not in asked, "\n".join(talk.transcript)
        asked.append(attribute.code)
        reply = talk.text(answers[attribute.code])
    return reply


def file_report(talk: Conversation, code: str, address: str) -> Tuple[str, str]:
    """A whole report in Spanish; (request number, the confirmation)."""
    opening, answers, _ = SCENARIOS[code]
    reply = answer_questions(talk, talk.text(opening), code, answers)
    assert LOCATION_QUESTION in reply, talk.transcript
    reply = talk.text(address)
    assert DESCRIPTION_QUESTION in reply, talk.transcript
    reply = talk.text(f"Lo reportó una prueba automática de {code.lower()}, ya lleva varios días así")
    assert CONTACT_QUESTION in reply, talk.transcript
    reply = talk.text("omitir")
    assert SUMMARY in reply and address in reply, talk.transcript
    reply = talk.text("sí, envíelo")
    return request_number(reply), reply


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_service_is_filed_in_spanish_with_the_back_offices_codes(stack, conversation, code):
    address = unique_address()
    request_id, reply = file_report(conversation, code, address)
    assert "Gracias" in reply, conversation.transcript
    request = stored(stack, request_id)
    assert request is not None and request.service_code == code
    assert request.address == address
    assert request.description.startswith(f"Lo reportó una prueba automática de {code.lower()}")
    assert request.description.endswith("[lang es]")
    _, _, required_value = SCENARIOS[code]
    service = CITY.service(code)
    first_required = next(a for a in service.attributes if a.required)
    if required_value is not None:
        assert request.attributes[first_required.code] == required_value
    if code == "ABANDONED_VEHICLE":
        assert request.attributes == {"plate": "ABC 1234", "days_parked": "14"}
    assert conversation.tracker()["slots"]["language"] == "es"


def test_a_correction_at_the_summary_in_spanish(stack, conversation):
    talk = conversation
    reply = talk.text("hay un bache enorme en mi calle")
    reply = answer_questions(talk, reply, "POTHOLE", {"size": "pequeño", "lane": "omitir"})
    talk.text(unique_address())
    talk.text("justo enfrente de la panadería")
    reply = talk.text("ana@example.org")
    assert "Contacto: ana@example.org" in reply, talk.transcript
    reply = talk.text("no, es en 12 Oak Avenue")
    assert "Ubicación: 12 Oak Avenue" in reply, talk.transcript
    reply = talk.text("el tamaño está mal")
    assert "¿Qué tan grande es?" in reply, talk.transcript
    reply = talk.text("mediano")
    assert SUMMARY in reply and "mediano" in reply, talk.transcript
    request = stored(stack, request_number(talk.text("sí")))
    assert request.address == "12 Oak Avenue"
    assert request.attributes == {"size": "medium (up to a car tire)"}
    assert request.email == "ana@example.org"


def test_a_city_question_in_the_middle_of_a_spanish_report(stack, conversation):
    talk = conversation
    reply = talk.text("quiero reportar grafiti en un puente")
    assert "¿Dónde está pintado?" in reply, talk.transcript
    reply = talk.text("¿a qué hora abre el ayuntamiento?")
    assert "8:30" in reply and "¿Dónde está pintado?" in reply, talk.transcript
    reply = answer_questions(talk, reply, "GRAFFITI", SCENARIOS["GRAFFITI"][1])
    talk.text("Main St y 5th Ave")
    talk.text("unas pintas en el puente")
    talk.text("omitir")
    request = stored(stack, request_number(talk.text("sí")))
    assert request.service_code == "GRAFFITI" and request.address == "Main St y 5th Ave"


def test_cancelling_a_spanish_report_sends_nothing(stack, conversation):
    talk = conversation
    talk.text("quiero reportar un bache")
    talk.text("chico")
    talk.text("omitir")
    talk.text("99 Cancel Road")
    reply = talk.text("cancelar")
    assert "cancelé ese reporte" in reply, talk.transcript
    assert talk.tracker()["slots"]["service_code"] is None
    found = httpx.get(f"{stack.effective_open311_url}/requests.json", timeout=10).json()
    assert all(r.get("address") != "99 Cancel Road" for r in found)


def test_a_status_lookup_in_spanish(stack, conversation):
    request_id, _ = file_report(Conversation(stack.rasa_port), "FALLEN_TREE", unique_address())
    talk = conversation
    reply = talk.text(f"cómo va mi solicitud {request_id}?")
    assert f"La solicitud {request_id}" in reply and "abierta" in reply, talk.transcript
    reply = talk.text("quiero saber el estado de la solicitud 987654")
    assert "987654" in reply and "No encontré" in reply, talk.transcript


@pytest.mark.parametrize(
    "message",
    [
        "huele mucho a gas en la cocina",
        "se está incendiando el garaje de al lado",
        "hay un poste de luz tirado en la banqueta echando chispas",
    ],
)
def test_a_spanish_emergency_goes_to_911_in_spanish(conversation, message):
    reply = conversation.text(message)
    assert "911" in reply and "llame" in reply, conversation.transcript


def test_an_emergency_in_the_middle_of_a_spanish_report(conversation):
    talk = conversation
    talk.text("hay una fuga de agua en la calle")
    reply = talk.text("se está metiendo el agua a la casa muy rápido, ayuda")
    assert "911" in reply, talk.transcript
    assert not (talk.tracker().get("active_loop") or {}).get("name")


def test_greeting_help_and_a_person_in_spanish(conversation):
    assert "asistente 311" in conversation.text("buenas tardes")
    assert "no una persona" in conversation.text("eres un robot?")
    reply = conversation.text("quiero hablar con una persona de verdad")
    assert "personal de la ciudad" in reply or "(555) 010-0311" in reply, conversation.transcript


def test_a_spanish_city_question_is_answered_in_spanish(conversation):
    reply = conversation.text("¿a qué hora cierran las oficinas de la ciudad?")
    assert "200 Main Street" in reply and "lunes a viernes" in reply, conversation.transcript


def test_english_words_in_an_answer_do_not_flip_a_spanish_conversation(stack, conversation):
    talk = conversation
    talk.text("hola, quiero reportar un bache")
    reply = talk.text("large")  # the back office's own word for the choice
    assert "¿En qué parte de la calle está?" in reply, talk.transcript
    reply = talk.text("bike lane")
    assert LOCATION_QUESTION in reply, talk.transcript
    reply = talk.text("12 Elm Street")
    assert DESCRIPTION_QUESTION in reply, talk.transcript
