"""The Telegram channel end to end: Bot API updates posted to the real Rasa server's webhook.

Updates are shaped as Telegram sends them; what the assistant answers is read at
the fake Telegram API (tests/support/fake_cloud.py), which records every Bot API call.
What needs no running assistant is in tests/unit/channels/test_telegram.py.
"""

from __future__ import annotations

import json
import random
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from bot.channels.identity import mask
from bot.process.procs import PROJECT_ROOT, ManagedProcess, free_port
from bot.process.stack import StackConfig
from bot.process.stack_processes import rasa_process
from tests.support.rasa_log import RasaLog
from tests.support.reports import request_number, stored
from tests.support.stack import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.support.telegram import SECRET_HEADER, TelegramChat, keyboard, update_ids

pytestmark = pytest.mark.e2e

EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval" / "telegram"
FAKE_JPEG = b"\xff\xd8\xff\xe0fakejpeg"
POLITE = "Sorry, I can only read text messages, locations, photos and contacts."


def eval_payloads() -> List[Tuple[str, Dict[str, Any]]]:
    """Every Update example in the shared evaluation set, named file:key."""
    payloads = []
    for path in sorted(EVAL_DIR.glob("*.json")):
        for key, value in json.loads(path.read_text()).items():
            if not key.startswith("_"):
                payloads.append((f"{path.stem}:{key}", value))
    return payloads


def text_of(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def last_with(messages: List[Dict[str, Any]], needle: str) -> Dict[str, Any]:
    found = [m for m in messages if needle in m["text"]]
    assert found, f"no message with {needle!r} in {text_of(messages)!r}"
    return found[-1]


@pytest.fixture
def chat(stack, fake_cloud) -> TelegramChat:
    return TelegramChat(stack, fake_cloud)


# --- the webhook's gate -----------------------------------------------------------


def test_a_wrong_or_missing_secret_is_refused(chat):
    update = chat.update(text="hello")
    for secret in (None, "", "wrong-secret", TELEGRAM_SECRET + "x", TELEGRAM_SECRET.upper()):
        answer = chat.post(update, secret=secret)
        assert answer.status_code == 403, (secret, answer.text)
    assert chat.sent() == []
    assert chat.post(update).status_code == 200  # the same update with the secret goes through
    assert len(chat.sent()) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", b'"hello"', b"42", b"\xff\xfe{", b"[" * 60000],
    ids=["broken", "empty", "array", "string", "number", "not-utf8", "deeply-nested"],
)
def test_a_body_that_is_not_a_json_object_is_400(chat, body):
    answer = chat.post(None, raw=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["ok"] is False


def test_every_shared_eval_payload_is_accepted_without_an_error(stack, chat):
    """As published (most share update_id 10000), then each with its own id so every one is read."""
    log = RasaLog(stack)
    payloads = eval_payloads()
    assert len(payloads) == 23
    for name, payload in payloads + [(f"{n} (new id)", {**p, "update_id": next(update_ids)}) for n, p in payloads]:
        answer = chat.post(payload)
        assert 200 <= answer.status_code < 300, (name, answer.status_code, answer.text)
    written = log.new_text()
    assert "Traceback" not in written and " ERROR " not in written, written[-3000:]


# --- conversations ----------------------------------------------------------------


def test_start_is_a_greeting_with_buttons(chat):
    replies = chat.send(text="/start")
    greeting = last_with(replies, "311 assistant")
    assert ("Report a problem", "/report_problem") in keyboard(greeting)
    help_text = chat.say("/help")
    assert "For emergencies, call 911" in help_text


def test_a_spanish_telegram_app_is_greeted_and_answered_in_spanish(stack, fake_cloud):
    chat = TelegramChat(stack, fake_cloud)
    chat.user["language_code"] = "es-MX"
    greeting = last_with(chat.send(text="/start"), "Soy el asistente 311")
    assert ("Reportar un problema", "/report_problem") in keyboard(greeting)
    assert ("English", '/set_language{"language": "en"}') in keyboard(greeting)
    (sticker,) = chat.send(sticker={"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "x", "width": 512, "height": 512})
    assert sticker["text"] == "Lo siento, solo puedo leer mensajes de texto, ubicaciones, fotos y contactos."
    english = TelegramChat(stack, fake_cloud)  # language_code "en": as before
    assert "I'm the City of Riverton's 311 assistant" in english.say("/start")


def test_a_pothole_report_with_a_button_a_shared_location_a_photo_and_a_contact(stack, fake_cloud, chat):
    replies = chat.send(text="I need to report a pothole")
    size = last_with(replies, "How big is it?")
    assert ("large (bigger than a car tire)", "large (bigger than a car tire)") in keyboard(size)

    callback_id, replies = chat.press(size, "large (bigger than a car tire)")
    answered = [r.body for r in fake_cloud.calls("answerCallbackQuery")]
    assert {"callback_query_id": callback_id} in answered
    lane = last_with(replies, "Where on the road?")

    _, replies = chat.press(lane, "bike lane")
    assert "Where is it?" in text_of(replies)

    latitude, longitude = round(random.uniform(41.40, 41.45), 5), round(random.uniform(-90.65, -90.60), 5)
    replies = chat.send(location={"latitude": latitude, "longitude": longitude})
    assert "Where is it?" not in text_of(replies) and "describe the problem" in text_of(replies), text_of(replies)

    small = {
        "file_id": f"AgADs{random.getrandbits(64):x}",
        "file_unique_id": "s1",
        "width": 90,
        "height": 60,
        "file_size": 1101,
    }
    large = {
        "file_id": f"AgADl{random.getrandbits(64):x}",
        "file_unique_id": "l1",
        "width": 1280,
        "height": 853,
        "file_size": 98311,
    }
    replies = chat.send(photo=[small, large], caption="Deep hole by the curb, bikes swerve into traffic")
    assert "updates" in text_of(replies), text_of(replies)

    contact = {"phone_number": "+15550142233", "first_name": "Rita", "last_name": "Moreno", "user_id": chat.chat_id}
    summary = last_with(chat.send(contact=contact), "Here's your report")
    assert "the location you shared" in summary["text"]

    _, replies = chat.press(summary, "Yes, send it")
    request_id = request_number(text_of(replies))

    found = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10).json()[0]
    assert (found["lat"], found["long"]) == (latitude, longitude)
    assert found["description"].startswith("Deep hole by the curb, bikes swerve into traffic")
    media_url = found["media_url"]
    assert media_url.startswith(f"http://127.0.0.1:{stack.rasa_port}/webhooks/telegram/media/{large['file_id']}?sig=")
    assert TELEGRAM_TOKEN not in media_url
    request = stored(stack, request_id)
    assert request.attributes == {"size": "large (bigger than a car tire)", "lane": "bike lane"}
    assert request.phone == "+15550142233" and request.first_name == "Rita"

    photo = httpx.get(media_url, timeout=30)
    assert photo.status_code == 200 and photo.content == FAKE_JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert {"file_id": large["file_id"]} in [r.body for r in fake_cloud.calls("getFile")]

    base, signature = media_url.split("?sig=")
    tampered = "0" if signature[0] != "0" else "1"
    assert httpx.get(f"{base}?sig={tampered}{signature[1:]}", timeout=10).status_code == 403
    assert httpx.get(base, timeout=10).status_code == 403
    other_file = base.replace(large["file_id"], small["file_id"])
    assert httpx.get(f"{other_file}?sig={signature}", timeout=10).status_code == 403


def test_a_venue_counts_as_a_shared_location(stack, chat):
    chat.say("I want to report a water leak")
    venue = {
        "location": {"latitude": 41.47321, "longitude": -90.61234},
        "title": "Riverton Library",
        "address": "1 Library Plaza",
    }
    replies = chat.send(text="street or pavement")
    assert "Where is it?" in text_of(replies), text_of(replies)
    replies = chat.send(venue=venue, location=venue["location"])
    assert "describe the problem" in text_of(replies), text_of(replies)


def test_a_retried_update_is_processed_once(chat):
    update = chat.update(text="hello")
    first, second = chat.post(update), chat.post(update)
    assert first.status_code == second.status_code == 200
    assert len(chat.sent()) == 1 and "311 assistant" in chat.sent()[0]["text"]


def test_a_sticker_gets_a_polite_answer(stack, chat):
    log = RasaLog(stack)
    sticker = {
        "file_id": "CAACAgIAAxkBAAEB",
        "file_unique_id": "AgADz",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "\U0001f6e0",
    }
    assert [m["text"] for m in chat.send(sticker=sticker)] == [POLITE]
    assert [m["text"] for m in chat.send(voice={"file_id": "AwAD", "duration": 2})] == [POLITE]
    assert "Traceback" not in log.new_text()


def test_chat_ids_and_the_token_stay_out_of_the_log(stack, chat):
    log = RasaLog(stack)
    chat.say("/start")
    chat.send(location={"latitude": 41.43, "longitude": -90.61})
    written = log.new_text()
    assert mask(str(chat.chat_id)) in written  # the channel did log this chat, masked
    assert str(chat.chat_id) not in written
    assert TELEGRAM_TOKEN not in written


# --- configuration and set-up -------------------------------------------------------


@pytest.fixture
def server_without_telegram(trained_model, tmp_path) -> Iterator[ManagedProcess]:
    """A second Rasa server, started as `make run` does when no channel is configured."""
    blank = {
        name: ""
        for name in (
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_SECRET_TOKEN",
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
        )
    }
    config = StackConfig(
        rasa_port=free_port(), action_port=free_port(), var_dir=tmp_path, model_path=trained_model, extra_env=blank
    )
    process = rasa_process(config)
    process.start()
    try:
        process.wait_ready(300)
        yield process
    finally:
        process.stop()


def test_without_a_token_the_server_runs_and_the_webhook_says_it_is_off(server_without_telegram):
    base = server_without_telegram.ready_url.split("/status")[0] + "/webhooks"
    token = {"token": server_without_telegram.env["RASA_API_TOKEN"]}  # generated into its var folder
    answer = httpx.post(f"{base}/telegram/webhook", json={"update_id": 1}, headers={SECRET_HEADER: "x"}, timeout=30)
    assert answer.status_code == 503
    assert "TELEGRAM_BOT_TOKEN is not set" in answer.json()["error"]
    assert httpx.get(f"{base}/telegram/", timeout=10).json() == {"status": "off"}
    rest = httpx.post(f"{base}/rest/webhook", json={"sender": "t", "message": "hello"}, params=token, timeout=60)
    assert rest.status_code == 200 and "311 assistant" in rest.text
    assert "Telegram channel is off: TELEGRAM_BOT_TOKEN is not set" in server_without_telegram.log_tail(400)
