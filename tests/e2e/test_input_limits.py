"""Bad input refused early and cleanly: size caps, odd ids, foreign media links.

Over real HTTP against the session's assistant (the Rasa server with its real
channels, the reference Open311 server); the parsers they use are tested in
tests/unit/channels/test_input_limits.py.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Iterator

import httpx
import pytest

from bot.channels.identity import sender_id_for
from bot.channels.limits import MAX_MESSAGE_CHARS, WEBHOOK_MAX_BODY_BYTES
from bot.channels.telegram import TOO_LONG_REPLY, fixed_reply
from bot.i18n.messages import messages
from tests.support.stack import RASA_API_TOKEN
from tests.support.telegram import SECRET_HEADER, TelegramChat
from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e

QUICK_SECONDS = 1.0  # generous: a refusal is milliseconds, a turn through the NLU is far slower
SESSION = str(uuid.uuid4())
OVERSIZED = b"x" * (WEBHOOK_MAX_BODY_BYTES + 1)
TOO_LONG = "pothole " * (MAX_MESSAGE_CHARS // 8 + 1)


@pytest.fixture(autouse=True)
def stack_secret(stack_config, monkeypatch) -> None:
    """Conversation ids here are keyed as the stack keys them."""
    monkeypatch.setenv("CITYBOT_SECRET_KEY", stack_config.extra_env["CITYBOT_SECRET_KEY"])


def timed_post(url: str, **kwargs) -> "tuple[httpx.Response, float]":
    started = time.monotonic()
    answer = httpx.post(url, timeout=30, **kwargs)
    return answer, time.monotonic() - started


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), so only reading it shows its size."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


# --- body and message caps ------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_telegram_bodies_are_refused_at_once(stack, fake_cloud, chunked):
    chat = TelegramChat(stack, fake_cloud)
    body = json.dumps(chat.update(text="x" * (WEBHOOK_MAX_BODY_BYTES + 1))).encode()
    headers = {SECRET_HEADER: "test-telegram-secret", "Content-Type": "application/json"}
    answer, seconds = timed_post(chat.url, content=chunks(body) if chunked else body, headers=headers)
    assert answer.status_code == 413 and seconds < QUICK_SECONDS, (answer.text, seconds)
    assert chat.sent() == []


def test_a_too_long_telegram_message_is_answered_without_a_turn(stack, fake_cloud):
    """Telegram redelivers refused updates, so this one is answered 200, with a reply, and not run."""
    chat = TelegramChat(stack, fake_cloud)
    started = time.monotonic()
    sent = chat.deliver(chat.update(text=TOO_LONG))
    assert time.monotonic() - started < 5 and [m["text"] for m in sent] == [fixed_reply(TOO_LONG_REPLY, messages("en"))]
    events = conversation_events(stack, sender_of_chat(chat))
    assert not [e for e in events if e.get("event") == "user"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_twilio_bodies_are_refused_at_once(stack, fake_cloud, chunked):
    phone = Phone(stack, fake_cloud)
    body = OVERSIZED if not chunked else b"Body=" + OVERSIZED
    headers = {"X-Twilio-Signature": "anything", "Content-Type": "application/x-www-form-urlencoded"}
    answer, seconds = timed_post(phone.webhook, content=chunks(body) if chunked else body, headers=headers)
    assert answer.status_code == 413 and seconds < QUICK_SECONDS, (answer.text, seconds)


def test_a_too_long_twilio_message_is_refused_before_the_nlu(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    started = time.monotonic()
    answer = phone.post(phone.form(TOO_LONG))
    assert answer.status_code == 413 and time.monotonic() - started < QUICK_SECONDS, answer.text
    assert phone.nothing_received()
    assert not [e for e in conversation_events(stack, phone.sender_id) if e.get("event") == "user"]


def test_oversized_web_chat_bodies_are_refused_at_once(stack):
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/webhook"
    body = json.dumps({"session": SESSION, "message": "hi", "pad": "x" * WEBHOOK_MAX_BODY_BYTES}).encode()
    answer, seconds = timed_post(url, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and seconds < QUICK_SECONDS, (answer.text, seconds)
    answer = httpx.post(url, json={"session": SESSION, "message": "x" * (MAX_MESSAGE_CHARS + 1)}, timeout=30)
    assert answer.status_code == 413


# --- odd values the web chat answers 400 ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"session": "\\ud800", "message": "hi"}',
        b'{"session": "\\udfff\\ud800-0000", "message": "hi"}',
        json.dumps({"session": SESSION, "message": "hi \ud800 there"}).encode(),
        b'{"session": "'
        + SESSION.encode()
        + b'", "message": "hi", "metadata": '
        + b"[" * 20_000
        + b"]" * 20_000
        + b"}",
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=["lone-surrogate-session", "surrogates-session", "lone-surrogate-message", "nested-metadata", "nested-body"],
)
def test_web_chat_odd_bodies_answer_400(stack, body):
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/webhook"
    answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("session", ["%ED%A0%80", "\ud800".encode("utf-8", "surrogatepass").hex()])
def test_web_chat_odd_session_ids_in_the_query_answer_400(stack, session):
    for route in ("history", "events"):
        answer = httpx.get(f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/{route}?session={session}", timeout=30)
        assert answer.status_code == 400, (route, answer.text)


@pytest.mark.parametrize(
    "params, headers",
    [
        ({"after": str(2**64)}, {}),
        ({"after": str(2**63)}, {}),
        ({"after": "9" * 5000}, {}),
        ({"after": "-1"}, {}),
        ({"after": "١٢"}, {}),  # Arabic-Indic digits: int() reads them, an id is not written so
        ({}, {"Last-Event-ID": str(2**64)}),
        ({}, {"Last-Event-ID": "1e9"}),
    ],
)
def test_web_chat_stream_positions_beyond_64_bits_answer_400(stack, params, headers):
    answer = httpx.get(
        f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/events",
        params={"session": SESSION, **params},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 400, answer.text


def test_the_largest_stream_position_is_still_served(stack):
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/webchat/events"
    with httpx.stream("GET", url, params={"session": SESSION, "after": str(2**63 - 1)}, timeout=30) as answer:
        assert answer.status_code == 200
        assert next(answer.iter_text()).startswith("retry:")


# --- the reference Open311 server's dates ---------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "start_date=9999-12-31T23:59:59Z",
        "end_date=0001-01-01T00:00:00Z",
        "start_date=0001-01-01T00:00:00%2B05:00",
        "start_date=9999-12-31T23:59:59-05:00&end_date=9999-12-31T23:59:59Z",
        "start_date=1969-12-31T00:00:00Z",
    ],
)
def test_out_of_range_open311_dates_answer_400(stack, query):
    for resource in ("requests.json", "requests.xml"):
        answer = httpx.get(f"http://127.0.0.1:{stack.open311_port}/open311/v2/{resource}?{query}", timeout=30)
        assert answer.status_code == 400, (resource, answer.text)
    assert "year" in answer.text


def test_ordinary_open311_dates_still_work(stack):
    answer = httpx.get(
        f"http://127.0.0.1:{stack.open311_port}/open311/v2/requests.json",
        params={"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


# --- Twilio media links ----------------------------------------------------------


def test_a_foreign_media_url_never_reaches_the_conversation(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    foreign = "https://attacker.example/tracking-pixel.jpg"
    genuine = f"{fake_cloud.base_url}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME{uuid.uuid4().hex[:8]}"
    for url in (foreign, genuine):
        answer = phone.post(
            phone.form("there is a pothole", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
        )
        assert answer.status_code == 200, answer.text
    users = [e for e in conversation_events(stack, phone.sender_id) if e.get("event") == "user"]
    assert [(e.get("metadata") or {}).get("media_url") for e in users] == [None, genuine]


# --- helpers ------------------------------------------------------------------


def sender_of_chat(chat: TelegramChat) -> str:
    return sender_id_for("telegram", str(chat.chat_id))


def conversation_events(stack, sender_id: str) -> list:
    answer = httpx.get(
        f"http://127.0.0.1:{stack.rasa_port}/conversations/{sender_id}/tracker",
        params={"token": RASA_API_TOKEN},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json().get("events") or []
