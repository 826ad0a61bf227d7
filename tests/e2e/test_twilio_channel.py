"""SMS and WhatsApp over Twilio, end to end against the real running assistant.

Each test posts Twilio-shaped webhook forms, signed the way Twilio signs them,
to the real Rasa server, and reads what the assistant sent back at the fake
Twilio REST API (fake_cloud). Every test texts from its own phone number.
What needs no running assistant is in tests/unit/channels/test_twilio.py.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Dict, Iterator

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels import outbound
from bot.channels.identity import mask
from bot.channels.outbound import NotDeliverable, deliver
from bot.channels.sms_format import MAX_BODY, body_length, with_choices
from bot.channels.twilio_rest import TwilioSender, TwilioSettings
from bot.db.contacts import contact_for
from bot.db.engine import reset_database
from bot.i18n.messages import messages
from tests.support.reports import request_number
from tests.support.stack import RASA_API_TOKEN, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER
from tests.support.twilio import EXAMPLES, USED_NUMBERS, WEBHOOK, Phone

pytestmark = pytest.mark.e2e

MMS_EXAMPLE = EXAMPLES["mms_with_photo_add_to_sms_text"]
SECRET_KEY = "test-secret-key"  # the stack's CITYBOT_SECRET_KEY (tests/support/stack.py)


def unique_street() -> str:
    return f"{random.randint(100, 9899)} {random.choice(['Birch', 'Cedar', 'Willow', 'Aspen'])} Lane"


def open311_request(stack, request_id: str) -> Dict:
    response = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10)
    response.raise_for_status()
    return response.json()[0]


@pytest.fixture
def phone(stack, fake_cloud) -> Phone:
    return Phone(stack, fake_cloud)


@pytest.fixture
def whatsapp(stack, fake_cloud) -> Phone:
    return Phone(stack, fake_cloud, whatsapp=True)


@pytest.fixture
def stack_database(stack, monkeypatch) -> Iterator[None]:
    """This test process reads and writes the running assistant's own database."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(stack.var_dir))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", SECRET_KEY)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


@pytest.fixture
def test_sender(stack_database, fake_cloud, monkeypatch) -> TwilioSender:
    """The Twilio sender registered in this process too, as a worker would have it."""
    settings = TwilioSettings(
        account_sid=TWILIO_ACCOUNT_SID,
        auth_token=TWILIO_AUTH_TOKEN,
        from_number=TWILIO_NUMBER,
        api_base_url=fake_cloud.base_url,
    )
    sender = TwilioSender(settings)
    monkeypatch.setattr(outbound, "_senders", {})
    outbound.register_sender(sender)
    return sender


# --- signature and malformed requests ------------------------------------------


def test_missing_or_bad_signatures_are_refused(phone):
    form = phone.form("I want to report a pothole")
    assert phone.post(form, signature="").status_code == 403
    other_url = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature("http://localhost:5005" + WEBHOOK, form)
    assert phone.post(form, signature=other_url).status_code == 403
    wrong_token = RequestValidator("not-the-token").compute_signature(phone.webhook, form)
    assert phone.post(form, signature=wrong_token).status_code == 403
    genuine = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(phone.webhook, form)
    tampered = dict(form, Body="I want to report graffiti")
    assert phone.post(tampered, signature=genuine).status_code == 403
    assert phone.nothing_received()


def test_the_query_string_is_part_of_the_signed_url(phone):
    form = phone.form("hello")
    url_without_query = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(phone.webhook, form)
    assert phone.post(form, query="city=riverton", signature=url_without_query).status_code == 403
    assert phone.post(form, query="city=riverton").status_code == 200
    assert "311 assistant" in phone.read()


def test_forwarded_headers_are_ignored_when_public_url_is_set(phone):
    form = phone.form("hello")
    as_proxied = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature("https://bot.city.gov" + WEBHOOK, form)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.city.gov"}
    assert phone.post(form, signature=as_proxied, headers=forwarded).status_code == 403


def test_malformed_bodies_are_refused_with_400(phone):
    def signed_raw(body: bytes, content_type: str, params: Dict[str, str]) -> httpx.Response:
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(phone.webhook, params)
        return httpx.post(
            phone.webhook,
            content=body,
            timeout=30,
            headers={"Content-Type": content_type, "X-Twilio-Signature": signature},
        )

    assert signed_raw(b"", "application/x-www-form-urlencoded", {}).status_code == 400  # no From, no MessageSid
    assert signed_raw(b'{"Body": "hi"}', "application/json", {}).status_code == 400
    assert signed_raw(b"Body=%ff&From", "application/x-www-form-urlencoded", {}).status_code == 400
    without_sid = {k: v for k, v in phone.form("hi").items() if "Sid" not in k}
    assert phone.post(without_sid).status_code == 400
    assert phone.nothing_received()


# --- conversations ----------------------------------------------------------------


def test_a_pothole_report_over_sms_with_numbered_choices(stack, phone):
    reply = phone.send("I need to report a pothole")
    assert "How big is it?" in reply and "Reply 1 for small (smaller than a dinner plate); 2 for medium" in reply
    reply = phone.send("3")  # large
    assert "Where on the road?" in reply, phone.transcript
    assert "2 for bike lane" in reply
    reply = phone.send("2")  # bike lane
    assert "Where is it?" in reply, phone.transcript
    street = unique_street()
    assert "describe the problem" in phone.send(street), phone.transcript
    reply = phone.send("a deep hole in the bike lane")
    assert "Reply 1 for Skip (stay anonymous)" in reply, phone.transcript
    reply = phone.send("1")  # skip: anonymous
    assert "Here's your report" in reply, phone.transcript
    assert "large (bigger than a car tire)" in reply and "bike lane" in reply and street in reply
    assert "1 for Yes, send it" in reply
    request = open311_request(stack, request_number(phone.send("1")))
    assert request["service_code"] == "POTHOLE"
    assert request["address"] == street
    assert request["description"].startswith("a deep hole in the bike lane")
    assert all(r.body.get("From") == TWILIO_NUMBER for r in phone.sent_to_me())


def test_a_number_without_choices_on_offer_is_taken_literally(phone):
    phone.send("I need to report a pothole")
    assert "Where on the road?" in phone.send("medium"), phone.transcript  # answered in words
    assert "Where is it?" in phone.send("skip"), phone.transcript
    reply = phone.send("2")  # the lane choices are used up: "2" is not "bike lane" any more
    assert "street address" in reply and "describe the problem" not in reply, phone.transcript


def test_a_whatsapp_location_replaces_the_address(stack, whatsapp):
    reply = whatsapp.send("I want to report a water leak")
    assert "Where is the water coming from?" in reply, whatsapp.transcript
    reply = whatsapp.send("1")  # street or pavement
    assert "Where is it?" in reply, whatsapp.transcript
    latitude, longitude = round(random.uniform(41.0, 42.0), 5), round(random.uniform(-91.0, -90.0), 5)
    reply = whatsapp.send("", Latitude=str(latitude), Longitude=str(longitude), NumMedia="0")
    assert "describe the problem" in reply, whatsapp.transcript
    whatsapp.send("water bubbling up through the asphalt")
    reply = whatsapp.send("skip")
    assert "Here's your report" in reply and "Location: the location you shared" in reply, whatsapp.transcript
    request = open311_request(stack, request_number(whatsapp.send("yes")))
    assert (request["lat"], request["long"]) == pytest.approx((latitude, longitude))
    sent = whatsapp.sent_to_me()
    assert sent and all(r.body.get("From") == f"whatsapp:{TWILIO_NUMBER}" for r in sent)


def test_an_mms_photo_becomes_the_requests_media_url(stack, phone):
    phone.send("I want to report graffiti")
    phone.send("1")  # the first surface
    phone.send("no")  # not offensive
    assert "describe the problem" in phone.send(unique_street()), phone.transcript
    photo = MMS_EXAMPLE["MediaUrl0"].replace("...", uuid.uuid4().hex[:12])
    reply = phone.send(
        "tags all over the wall", NumMedia="1", MediaUrl0=photo, MediaContentType0=MMS_EXAMPLE["MediaContentType0"]
    )
    assert "updates" in reply, phone.transcript
    reply = phone.send("skip")
    assert "Photo: attached" in reply, phone.transcript
    request = open311_request(stack, request_number(phone.send("yes")))
    assert request["media_url"] == photo


def test_a_long_message_is_split_and_its_choices_still_work(stack, phone, stack_database):
    phone.send("hello")
    paragraphs = [
        f"Paragraph {n}: " + " ".join(f"Sentence {n}.{s} about the works on Main Street." for s in range(12))
        for n in range(1, 7)
    ]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * MAX_BODY
    buttons = [
        {"title": "Report a problem", "payload": "/report_problem"},
        {"title": "City Hall hours", "payload": "When is City Hall open?"},
    ]
    response = httpx.post(
        f"http://127.0.0.1:{stack.rasa_port}/conversations/{phone.sender_id}/tracker/events",
        params={"output_channel": "twilio", "execute_side_effects": "true", "token": RASA_API_TOKEN},
        json={"event": "bot", "text": text, "data": {"buttons": buttons}},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    phone.cloud.wait_for(lambda _: len(phone.sent_to_me()) >= phone.read_so_far + 3)
    pieces = [r.body["Body"] for r in phone.sent_to_me()[phone.read_so_far :]]
    phone.read_so_far += len(pieces)
    assert len(pieces) >= 3 and all(body_length(p) <= MAX_BODY for p in pieces)
    assert all(p.startswith("Paragraph") for p in pieces)  # cut between paragraphs
    assert "\n\n".join(pieces) == with_choices(text, buttons, messages("en"))
    assert "8:30" in phone.send("2")  # button 2 of that message: the City Hall question


def test_stop_silences_everything_until_start(phone, test_sender):
    phone.send("hello")
    assert phone.send_unanswered("Stop")  # Twilio itself confirms an SMS opt-out
    assert phone.send_unanswered("I want to report a pothole")
    assert asyncio.run(contact_for(phone.sender_id)).opted_out
    with pytest.raises(NotDeliverable):
        asyncio.run(deliver(phone.sender_id, "Your request was updated."))
    with pytest.raises(NotDeliverable):
        asyncio.run(test_sender.send(phone.address, "Sent around deliver()."))
    assert phone.nothing_received(settle=0.1)

    assert phone.send_unanswered("START")  # Twilio confirms this one too
    assert not asyncio.run(contact_for(phone.sender_id)).opted_out
    assert "311 assistant" in phone.send("hello")
    asyncio.run(deliver_then_close(test_sender, phone.sender_id, "Your request 1042 was closed: fixed."))
    assert phone.read() == "Your request 1042 was closed: fixed."


async def deliver_then_close(sender: TwilioSender, sender_id: str, text: str) -> None:
    """deliver() on its own event loop, closing the sender's connections before the loop ends."""
    try:
        await deliver(sender_id, text)
    finally:
        await sender.aclose()


def test_cancel_opts_out_on_sms_but_cancels_the_report_on_whatsapp(phone, whatsapp, stack_database):
    phone.send("I need to report a pothole")
    assert phone.send_unanswered("CANCEL")
    assert asyncio.run(contact_for(phone.sender_id)).opted_out

    whatsapp.send("I need to report a pothole")
    assert "cancelled" in whatsapp.send("cancel")
    assert not asyncio.run(contact_for(whatsapp.sender_id)).opted_out
    assert "won't get any more messages" in whatsapp.send("STOP")  # nobody else confirms on WhatsApp
    assert asyncio.run(contact_for(whatsapp.sender_id)).opted_out
    assert "Welcome back" in whatsapp.send("start")


def test_yes_is_an_answer_unless_the_resident_opted_out(phone, stack_database):
    phone.send("I want to report a pothole")
    reply = phone.send("yes")  # not an opt-in keyword for a subscribed resident: the bot gets it
    assert reply
    assert not asyncio.run(contact_for(phone.sender_id)).opted_out


def test_help_gives_the_311_number(phone):
    reply = phone.send("HELP")
    assert "(555) 010-0311" in reply and "STOP" in reply and "911" in reply
    assert "INFO" not in reply
    assert "(555) 010-0311" in phone.send("info")


def test_an_sms_conversation_in_spanish_gets_spanish_choices_help_and_opt_out(phone, stack_database):
    assert "le escribiré en español" in phone.send('/set_language{"language": "es"}'), phone.transcript
    greeting = phone.send("/greet")
    assert "Soy el asistente 311" in greeting, phone.transcript
    assert "Responda 1 para Reportar un problema; 2 para Ver cómo va un reporte;" in greeting
    assert "Reply 1 for" not in greeting
    for keyword in ("AYUDA", "help"):  # the Spanish word, and the carriers' word from a Spanish reader
        reply = phone.send(keyword)
        assert reply.startswith("Asistente 311 de la") and "Responda ALTO para dejar de recibir mensajes" in reply
    assert phone.send("alto") == "Ya no recibirá mensajes de este número. Envíe START para volver a recibirlos."
    assert asyncio.run(contact_for(phone.sender_id)).opted_out
    assert phone.send_unanswered("hola")


def test_a_retried_webhook_is_answered_once(phone):
    form = phone.form("hello")
    assert phone.post(form).status_code == 200
    first = phone.read()
    assert "311 assistant" in first
    assert phone.post(form).status_code == 200  # Twilio retries the same MessageSid
    assert phone.nothing_received()


def test_a_failed_send_is_retried(phone, fake_cloud):
    fake_cloud.fail_next("Messages.json")
    assert phone.post(phone.form("hello")).status_code == 200
    fake_cloud.wait_for(lambda _: len(phone.sent_to_me()) >= 2)
    attempts = phone.sent_to_me()
    assert len(attempts) >= 2
    assert attempts[0].body["Body"] == attempts[1].body["Body"] and "311 assistant" in attempts[1].body["Body"]
    assert attempts[1].at - attempts[0].at >= 0.3  # backed off before trying again


def test_phone_numbers_are_not_logged_in_clear(stack, phone, whatsapp):
    phone.send("hello")
    whatsapp.send("hello")
    log = (stack.var_dir / "logs" / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert mask(phone.number) in log  # the channel did log these conversations, masked
    for number in USED_NUMBERS:
        assert number not in log and number.lstrip("+") not in log, f"{mask(number)} is in rasa.log in clear"
