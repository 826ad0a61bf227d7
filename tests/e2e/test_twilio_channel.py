"""SMS and WhatsApp over Twilio, end to end against the real running assistant.

Each test posts Twilio-shaped webhook forms, signed the way Twilio signs them,
to the real Rasa server, and reads what the assistant sent back at the fake
Twilio REST API (fake_cloud). Every test texts from its own phone number.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import re
import time
import uuid
from types import SimpleNamespace
from typing import Dict, Iterator, List, Optional

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels import outbound
from bot.channels.identity import mask, sender_id_for
from bot.channels.outbound import NotDeliverable, deliver
from bot.channels.sms_format import MAX_BODY, body_length, pick_choice, split_body, with_choices
from bot.channels.sms_keywords import Keyword, carrier_keyword
from bot.channels.twilio import TwilioInput, sender_from_env
from bot.channels.twilio_inbound import FormParams, InboundMessage, MalformedWebhook
from bot.channels.twilio_rest import TwilioSender, TwilioSettings, redact
from bot.storage import contact_for, reset_database
from tests.conftest import RASA_API_TOKEN, SHARED, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER
from tests.fake_cloud import FakeCloud, RecordedRequest

pytestmark = pytest.mark.e2e

WEBHOOK = "/webhooks/twilio/webhook"
EXAMPLES = json.loads((SHARED / "eval" / "twilio" / "inbound_sms_webhook_examples.json").read_text(encoding="utf-8"))
MMS_EXAMPLE = EXAMPLES["mms_with_photo_add_to_sms_text"]
SECRET_KEY = "test-secret-key"  # the stack's CITYBOT_SECRET_KEY (conftest)

_serial = itertools.count(random.randint(0, 5000))
USED_NUMBERS: List[str] = []


def new_number() -> str:
    """A phone number no other test (or earlier session) texted from."""
    number = f"+1555{random.randint(100, 999)}{next(_serial) % 10000:04d}"
    USED_NUMBERS.append(number)
    return number


def unique_street() -> str:
    return f"{random.randint(100, 9899)} {random.choice(['Birch', 'Cedar', 'Willow', 'Aspen'])} Lane"


class Phone:
    """A resident's phone: Twilio's webhook calls for its messages, and what it received."""

    def __init__(self, stack, cloud: FakeCloud, whatsapp: bool = False) -> None:
        self.number = new_number()
        self.whatsapp = whatsapp
        self.address = f"whatsapp:{self.number}" if whatsapp else self.number
        self.webhook = f"http://127.0.0.1:{stack.rasa_port}{WEBHOOK}"
        self.cloud = cloud
        self.read_so_far = 0
        self.transcript: List[str] = []

    @property
    def sender_id(self) -> str:
        return sender_id_for("whatsapp" if self.whatsapp else "sms", self.address)

    def form(self, body: str = "", **extra: str) -> Dict[str, str]:
        """A webhook form shaped like Twilio's (see inbound_sms_webhook_examples.json)."""
        sid = "SM" + uuid.uuid4().hex
        form = dict(EXAMPLES["sms_text"])
        form.update(
            From=self.address,
            To=f"whatsapp:{TWILIO_NUMBER}" if self.whatsapp else TWILIO_NUMBER,
            Body=body,
            MessageSid=sid,
            SmsMessageSid=sid,
            SmsSid=sid,
            AccountSid=TWILIO_ACCOUNT_SID,
        )
        form.update(extra)
        return form

    def post(self, form: Dict[str, str], query: str = "", signature: Optional[str] = None, **kwargs) -> httpx.Response:
        """POST the form as Twilio would, signed for the URL called unless `signature` is given."""
        url = self.webhook + (f"?{query}" if query else "")
        if signature is None:
            signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, form)
        return httpx.post(url, data=form, headers={"X-Twilio-Signature": signature, **kwargs.pop("headers", {})},
                          timeout=60, **kwargs)

    def sent_to_me(self) -> List[RecordedRequest]:
        return [r for r in self.cloud.calls("Messages.json") if r.body.get("To") == self.address]

    def send(self, text: str = "", **extra: str) -> str:
        """Text the assistant; its replies, joined."""
        response = self.post(self.form(text, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml") and "<Response" in response.text
        self.transcript.append(f"> {text}")
        return self.read()

    def read(self) -> str:
        """Replies not read yet (waiting a little for the first one)."""
        self.cloud.wait_for(lambda _: len(self.sent_to_me()) > self.read_so_far, timeout=90)
        new = self.sent_to_me()[self.read_so_far:]
        self.read_so_far += len(new)
        bodies = [r.body["Body"] for r in new]
        self.transcript.extend(f"< {b}" for b in bodies)
        return "\n".join(bodies)

    def send_unanswered(self, text: str) -> bool:
        """Text the assistant; whether nothing came back."""
        response = self.post(self.form(text))
        assert response.status_code == 200, response.text
        return self.nothing_received()

    def nothing_received(self, settle: float = 1.5) -> bool:
        time.sleep(settle)
        return len(self.sent_to_me()) == self.read_so_far


def open311_request(stack, request_id: str) -> Dict:
    response = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10)
    response.raise_for_status()
    return response.json()[0]


def request_number(reply: str) -> str:
    match = re.search(r"request number is (\w[\w-]*)", reply)
    assert match, f"no request number in: {reply!r}"
    return match.group(1)


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
    settings = TwilioSettings(account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN,
                              from_number=TWILIO_NUMBER, api_base_url=fake_cloud.base_url)
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
        return httpx.post(phone.webhook, content=body, timeout=30,
                          headers={"Content-Type": content_type, "X-Twilio-Signature": signature})

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
    reply = phone.send("tags all over the wall", NumMedia="1", MediaUrl0=photo,
                       MediaContentType0=MMS_EXAMPLE["MediaContentType0"])
    assert "updates" in reply, phone.transcript
    reply = phone.send("skip")
    assert "Photo: attached" in reply, phone.transcript
    request = open311_request(stack, request_number(phone.send("yes")))
    assert request["media_url"] == photo


def test_a_long_message_is_split_and_its_choices_still_work(stack, phone, stack_database):
    phone.send("hello")
    paragraphs = [f"Paragraph {n}: " + " ".join(f"Sentence {n}.{s} about the works on Main Street." for s in range(12))
                  for n in range(1, 7)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * MAX_BODY
    buttons = [{"title": "Report a problem", "payload": "/report_problem"},
               {"title": "City Hall hours", "payload": "When is City Hall open?"}]
    response = httpx.post(
        f"http://127.0.0.1:{stack.rasa_port}/conversations/{phone.sender_id}/tracker/events",
        params={"output_channel": "twilio", "execute_side_effects": "true", "token": RASA_API_TOKEN},
        json={"event": "bot", "text": text, "data": {"buttons": buttons}}, timeout=30,
    )
    assert response.status_code == 200, response.text
    phone.cloud.wait_for(lambda _: len(phone.sent_to_me()) >= phone.read_so_far + 3)
    pieces = [r.body["Body"] for r in phone.sent_to_me()[phone.read_so_far:]]
    phone.read_so_far += len(pieces)
    assert len(pieces) >= 3 and all(body_length(p) <= MAX_BODY for p in pieces)
    assert all(p.startswith("Paragraph") for p in pieces)  # cut between paragraphs
    assert "\n\n".join(pieces) == with_choices(text, buttons)
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
    asyncio.run(deliver(phone.sender_id, "Your request 1042 was closed: fixed."))
    assert phone.read() == "Your request 1042 was closed: fixed."


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


# --- without Twilio settings ------------------------------------------------------------


def test_without_credentials_the_channel_is_off(monkeypatch, caplog):
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(key, raising=False)
    with caplog.at_level(logging.INFO, logger="bot.channels.twilio"):
        channel = TwilioInput.from_credentials(None)
    assert [r.getMessage() for r in caplog.records if r.name == "bot.channels.twilio"] == [
        "Twilio SMS/WhatsApp channel off: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
        "TWILIO_FROM_NUMBER (or TWILIO_WHATSAPP_FROM / TWILIO_MESSAGING_SERVICE_SID) not set"
    ]
    assert channel.get_output_channel() is None and sender_from_env() is None

    async def never(_message) -> None:
        raise AssertionError("no message may reach Rasa")

    answer = asyncio.run(channel._receive(SimpleNamespace(headers={}, body=b""), never))
    assert answer.status == 503 and b"TWILIO_ACCOUNT_SID" in answer.body


# --- plain-text formatting and keywords (no stack needed) ----------------------------------


def test_split_prefers_paragraphs_then_sentences_then_words():
    sentence = "The crew will come by on Tuesday morning. "
    text = "Short first paragraph.\n\n" + sentence * 60 + "\n\n" + "x" * 3300
    pieces = split_body(text)
    assert all(body_length(p) <= MAX_BODY for p in pieces)
    assert pieces[0] == "Short first paragraph."  # a paragraph is not cut when it can be kept whole
    assert all(p.rstrip().endswith(".") for p in pieces[:2])  # cut after a sentence
    assert "".join(p for p in pieces if p.startswith("x")) == "x" * 3300
    assert split_body("   ") == [] and split_body("hi") == ["hi"]


def test_emoji_count_double_towards_the_limit():
    pieces = split_body("🚧" * 1000)
    assert len(pieces) == 2 and all(body_length(p) <= MAX_BODY for p in pieces) and "".join(pieces) == "🚧" * 1000


def test_numbered_choices():
    assert pick_choice("2", ["a", "b"]) == "b"
    assert pick_choice(" 2. ", ["a", "b"]) == "b"
    assert pick_choice("3", ["a", "b"]) is None
    assert pick_choice("0", ["a", "b"]) is None
    assert pick_choice("1, 3", ["red", "green", "blue"]) == "red, blue"
    assert pick_choice("1 and 2", ["yes", "/cancel"]) is None
    assert pick_choice("12 Elm Street", ["a"] * 12) is None


@pytest.mark.parametrize(
    "channel, text, opted_out, expected",
    [
        ("sms", "STOP", False, Keyword.OPT_OUT),
        ("sms", " stopall ", False, Keyword.OPT_OUT),
        ("sms", "Unsubscribe.", False, Keyword.OPT_OUT),
        ("sms", "cancel", False, Keyword.OPT_OUT),
        ("whatsapp", "cancel", False, None),
        ("whatsapp", "quit", False, Keyword.OPT_OUT),
        ("sms", "stop the report", False, None),
        ("sms", "yes", False, None),
        ("sms", "yes", True, Keyword.OPT_IN),
        ("sms", "UNSTOP", True, Keyword.OPT_IN),
        ("sms", "help", False, Keyword.HELP),
        ("sms", "INFO", True, Keyword.HELP),
        ("sms", "help me report a pothole", False, None),
    ],
)
def test_carrier_keywords(channel, text, opted_out, expected):
    assert carrier_keyword(channel, text, opted_out) is expected


def inbound(**params: str) -> InboundMessage:
    return InboundMessage.from_form(FormParams.from_pairs(list({"MessageSid": "SM1", "From": "+15551112222", **params}.items())))


def test_reading_twilio_forms():
    photo = inbound(NumMedia="2", MediaUrl0="https://api.twilio.com/a.pdf", MediaContentType0="application/pdf",
                    MediaUrl1="https://api.twilio.com/b", MediaContentType1="image/png")
    assert photo.metadata == {"media_url": "https://api.twilio.com/b"} and photo.text == "Here is a photo."
    assert inbound(NumMedia="1", MediaUrl0="https://x/a.ogg", MediaContentType0="audio/ogg", Body="").metadata == {}
    place = inbound(From="whatsapp:+15551112222", Latitude="41.5", Longitude="-90.5", Address="200 Main Street")
    assert place.channel == "whatsapp" and place.text == "200 Main Street"
    assert place.metadata == {"location": {"latitude": 41.5, "longitude": -90.5}}
    assert inbound(Latitude="91", Longitude="0", Body="hi").metadata == {}
    assert inbound(Body="jane\u00a1example.org \u00a1Hola!").text == "jane@example.org \u00a1Hola!"
    assert inbound(From="messenger:123").channel is None
    with pytest.raises(MalformedWebhook):
        inbound(From="")


def test_numbers_in_twilio_errors_are_masked():
    text = redact("The 'To' number +15551234567 is not a valid phone number (whatsapp:+15557654321).")
    assert "5551234567" not in text and "5557654321" not in text and "+155***4567" in text


def test_twilio_advanced_opt_out_verdict_counts():
    assert carrier_keyword("sms", "ARRET", False, "STOP") is Keyword.OPT_OUT
    assert carrier_keyword("sms", "OUI", True, "START") is Keyword.OPT_IN
