"""Spanish-speaking residents on Telegram, SMS and the web chat, end to end, writing as they would.

The REST conversations (tests/e2e/test_conversations_es.py) cover every
service; here each channel gets a whole report in Spanish with its own way of
answering (Telegram buttons, SMS numbers, the web chat's webhook), an
emergency, and an alert subscription or a status lookup.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.support.reports import stored, unique_address
from tests.support.telegram import TelegramChat, keyboard
from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e


def request_number(reply: str) -> str:
    match = re.search(r"Su número de solicitud es (\w[\w-]*)", reply)
    assert match, reply
    return match.group(1)


def last_with(replies, text: str):
    found = [r for r in replies if text in r.get("text", "")]
    assert found, [r.get("text") for r in replies]
    return found[-1]


def test_a_telegram_report_in_spanish_with_buttons_then_alerts(stack, fake_cloud):
    chat = TelegramChat(stack, fake_cloud)
    chat.user["language_code"] = "es-US"
    size = last_with(chat.send(text="hay un bache bien grande en mi calle"), "¿Qué tan grande es?")
    titles = [title for title, _ in keyboard(size)]
    assert "grande (más grande que una llanta de carro)" in titles, titles
    _, replies = chat.press(size, "grande (más grande que una llanta de carro)")
    lane = last_with(replies, "¿En qué parte de la calle está?")
    _, replies = chat.press(lane, "Omitir")
    assert "¿Dónde está?" in "\n".join(r["text"] for r in replies)
    address = unique_address()
    assert "describa el problema" in chat.say(address)
    assert "recibir noticias" in chat.say("está enfrente de la tienda de la esquina")
    summary = chat.say("omitir")
    assert "Este es su reporte:" in summary and "Bache" in summary, summary
    request = stored(stack, request_number(chat.say("sí")))
    assert request.service_code == "POTHOLE" and request.attributes == {"size": "large (bigger than a car tire)"}
    assert request.description.endswith("[lang es]")
    reply = chat.say("mándeme las alertas de emergencia de la ciudad")
    assert "alertas" in reply and "Riverton" in reply, reply
    assert "911" in chat.say("se está quemando la casa de enfrente")


def test_an_sms_report_in_spanish_answered_with_numbers(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    reply = phone.send("hola, no pasaron por la basura esta semana")
    assert "¿Qué contenedor no recogieron?" in reply and "Responda 1 para" in reply, phone.transcript
    reply = phone.send("2")  # reciclaje
    assert "6:00 a. m." in reply, phone.transcript
    reply = phone.send("sí")
    assert "¿Dónde está?" in reply, phone.transcript
    address = unique_address()
    assert "describa el problema" in phone.send(address)
    assert "recibir noticias" in phone.send("el bote azul sigue lleno en la banqueta")
    summary = phone.send("omitir")
    assert "Este es su reporte:" in summary and address in summary, phone.transcript
    request = stored(stack, request_number(phone.send("sí")))
    assert request.service_code == "MISSED_TRASH"
    assert request.attributes == {"bin_type": "recycling", "set_out_on_time": "yes"}
    assert "911" in phone.send("hay un cable de luz tirado echando chispas en la calle")
    reply = phone.send("ALERTAS SI")
    assert "ALERTAS NO" in reply, phone.transcript


def test_a_web_chat_report_in_spanish_and_its_status(stack):
    base = f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/webhook"
    session = str(uuid.uuid4())

    def say(message: str) -> str:
        response = httpx.post(base, json={"session": session, "message": message}, timeout=60)
        assert response.status_code == 200, response.text
        return "\n".join(m.get("text", "") for m in response.json())

    assert "¿Qué está haciendo la luz?" in say("buenas noches, la luz de la calle de mi cuadra está apagada")
    assert "número del poste" in say("apagada")
    assert "¿Dónde está?" in say("no sé")
    address = unique_address()
    say(address)
    say("está todo oscuro desde el fin de semana")
    assert "Este es su reporte:" in say("omitir")
    request_id = request_number(say("sí, envíelo"))
    request = stored(stack, request_id)
    assert request.service_code == "STREETLIGHT" and request.attributes == {"problem": "out"}
    status = say(f"me puede decir cómo va la solicitud {request_id}")
    assert f"La solicitud {request_id}" in status, status
