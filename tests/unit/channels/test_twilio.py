"""The Twilio channel's parts that need no running assistant: settings, SMS formatting, keywords, forms, languages."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Dict, Iterator, List, Tuple

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import outbound
from bot.channels.identity import sender_id_for
from bot.channels.sms_format import MAX_BODY, body_length, pick_choice, split_body, with_choices
from bot.channels.sms_keywords import Keyword, carrier_keyword, confirmed_by_carrier, help_text, keyword_language
from bot.channels.twilio import TwilioInput, sender_from_env
from bot.channels.twilio_inbound import FormParams, InboundMessage, MalformedWebhook
from bot.channels.twilio_rest import TwilioSettings, redact
from bot.db.engine import reset_database
from bot.i18n.messages import messages
from bot.i18n.store import remember_language
from tests.support.bilingual_city import use_bilingual_city

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
    return InboundMessage.from_form(
        FormParams.from_pairs(list({"MessageSid": "SM1", "From": "+15551112222", **params}.items()))
    )


def test_reading_twilio_forms():
    photo = inbound(
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/a.pdf",
        MediaContentType0="application/pdf",
        MediaUrl1="https://api.twilio.com/b",
        MediaContentType1="image/png",
    )
    assert photo.metadata == {"media_url": "https://api.twilio.com/b"} and photo.text == ""
    assert (
        photo.text_in(messages("en")) == "Here is a photo." and photo.text_in(messages("es")) == "Aquí tiene una foto."
    )
    assert inbound(NumMedia="1", MediaUrl0="https://x/a.ogg", MediaContentType0="audio/ogg", Body="").metadata == {}
    place = inbound(From="whatsapp:+15551112222", Latitude="41.5", Longitude="-90.5", Address="200 Main Street")
    assert place.channel == "whatsapp" and place.text_in(messages("es")) == "200 Main Street"
    bare_place = inbound(Latitude="41.5", Longitude="-90.5")
    assert bare_place.text_in(messages("en")) == "my location" and bare_place.text_in(messages("es")) == "mi ubicación"
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


# --- in the resident's language --------------------------------------------------------


@pytest.mark.parametrize(
    "channel, text, opted_out, expected",
    [
        ("sms", "ALTO", False, Keyword.OPT_OUT),  # the carriers' Spanish STOP
        ("sms", "¡Alto!", False, Keyword.OPT_OUT),
        ("whatsapp", "parar", False, Keyword.OPT_OUT),
        ("sms", "alto el ruido", False, None),
        ("sms", "cancelar", False, None),  # cancels a report, as "cancel" does on WhatsApp
        ("sms", "ayuda", False, Keyword.HELP),
        ("sms", "AYUDA.", True, Keyword.HELP),
        ("sms", "ayuda con un bache", False, None),
    ],
)
def test_spanish_keywords(channel, text, opted_out, expected):
    assert carrier_keyword(channel, text, opted_out) is expected


def test_who_confirms_a_keyword_and_in_which_language():
    assert confirmed_by_carrier("sms", "stop") and confirmed_by_carrier("sms", "START")
    assert confirmed_by_carrier("sms", "ALTO", "STOP")  # Advanced Opt-Out knows it: Twilio answered
    assert not confirmed_by_carrier("sms", "ALTO") and not confirmed_by_carrier("whatsapp", "STOP")
    assert keyword_language("¡Ayuda!") == "es" and keyword_language("alto") == "es"
    assert keyword_language("HELP") is None and keyword_language("STOP") is None


def test_the_help_answer_and_the_choices_in_each_language(city, monkeypatch, tmp_path):
    use_bilingual_city(monkeypatch, tmp_path)
    assert help_text(messages("es")) == (
        "Asistente 311 de la Ciudad de Example: reporte un problema, pregunte por los servicios de la ciudad "
        "o consulte un reporte. Para hablar con una persona, llame al 311, o (555) 010-0999 desde fuera de la "
        "ciudad. En caso de emergencia, llame al 911. Responda ALTO para dejar de recibir mensajes."
    )
    assert help_text(messages("en")).startswith("City of Example 311 assistant: report a problem")
    buttons = [{"title": "Sí", "payload": "/affirm"}, {"title": "No.", "payload": "/deny"}]
    assert with_choices("¿Lo envío?", buttons, messages("es")) == "¿Lo envío?\n\nResponda 1 para Sí; 2 para No."
    assert with_choices("Send it?", buttons, messages("en")) == "Send it?\n\nReply 1 for Sí; 2 for No."
    assert with_choices("Hi", [], messages("es")) == "Hi"


class RecordingMessages:
    """Twilio's Messages API, recorded instead of called."""

    def __init__(self) -> None:
        self.created: List[Dict[str, str]] = []

    async def create(self, form: Dict[str, str]) -> None:
        self.created.append(form)

    async def aclose(self) -> None:
        pass


@pytest.fixture
def twilio(city, tmp_path, monkeypatch) -> Iterator[Tuple[TwilioInput, RecordingMessages, List[UserMessage]]]:
    """The channel on a fresh database, its sends recorded, and the messages it passes to Rasa."""
    use_bilingual_city(monkeypatch, tmp_path)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    monkeypatch.setattr(outbound, "_senders", {})
    channel = TwilioInput(TwilioSettings(account_sid="AC1", auth_token="token", from_number="+15550100311"))
    recorded = RecordingMessages()
    assert channel.sender is not None
    channel.sender.messages = recorded  # type: ignore[assignment]
    yield channel, recorded, []
    reset_database()


async def text(twilio, body: str = "", sender: str = "+15551112222", **params: str) -> List[str]:
    """What the resident at `sender` receives for one message (the rest goes to the list of Rasa messages)."""
    channel, recorded, to_rasa = twilio
    before = len(recorded.created)

    async def on_new_message(message: UserMessage) -> None:
        to_rasa.append(message)

    await channel._handle(inbound(From=sender, Body=body, **params), on_new_message)
    return [form["Body"] for form in recorded.created[before:]]


async def test_spanish_keywords_are_answered_and_confirmed_in_spanish(twilio):
    assert (await text(twilio, "AYUDA"))[0].startswith("Asistente 311 de la Ciudad de Example")
    assert (await text(twilio, "HELP"))[0].startswith("City of Example 311 assistant")
    assert await text(twilio, "ALTO") == [
        "Ya no recibirá mensajes de este número. Envíe START para volver a recibirlos."
    ]
    assert await text(twilio, "hola") == [] and twilio[2] == []  # opted out: nothing answers
    assert await text(twilio, "START") == []  # Twilio confirms START itself on SMS
    await text(twilio, "hola")
    assert [m.text for m in twilio[2]] == ["hola"]


async def test_keywords_follow_the_residents_stored_language(twilio):
    spanish = "+15553334444"
    await remember_language(sender_id_for("sms", spanish), "es")
    assert (await text(twilio, "help", sender=spanish))[0].startswith("Asistente 311 de la Ciudad de Example")
    assert await text(twilio, "STOP", sender=spanish) == []  # Twilio confirms STOP itself on SMS
    whatsapp = f"whatsapp:{spanish}"
    await remember_language(sender_id_for("whatsapp", whatsapp), "es")
    assert await text(twilio, "STOP", sender=whatsapp) == [
        "Ya no recibirá mensajes de este número. Envíe START para volver a recibirlos."
    ]


async def test_a_bare_location_and_the_choices_are_in_the_residents_language(twilio):
    spanish = "+15553334444"
    sender_id = sender_id_for("sms", spanish)
    await remember_language(sender_id, "es")
    await text(twilio, sender=spanish, Latitude="41.5", Longitude="-90.5")
    await text(twilio, sender="+15556667777", Latitude="41.5", Longitude="-90.5")
    assert [m.text for m in twilio[2]] == ["mi ubicación", "my location"]
    channel, recorded, _ = twilio
    await channel.output.send_text_with_buttons(sender_id, "¿Lo envío?", [{"title": "Sí", "payload": "/affirm"}])
    assert recorded.created[-1]["Body"] == "¿Lo envío?\n\nResponda 1 para Sí."
