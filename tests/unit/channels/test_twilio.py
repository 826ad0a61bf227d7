"""The Twilio channel's parts that need no running assistant: settings, SMS formatting, keywords, forms."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from bot.channels.sms_format import MAX_BODY, body_length, pick_choice, split_body
from bot.channels.sms_keywords import Keyword, carrier_keyword
from bot.channels.twilio import TwilioInput, sender_from_env
from bot.channels.twilio_inbound import FormParams, InboundMessage, MalformedWebhook
from bot.channels.twilio_rest import redact

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
