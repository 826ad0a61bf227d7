"""The Telegram channel end to end: Bot API updates posted to the real Rasa server's webhook.

Updates are shaped as Telegram sends them; what the assistant answers is read at
the fake Telegram API (tests/fake_cloud.py), which records every Bot API call.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

from bot.channels.identity import mask
from bot.channels.telegram import (
    ButtonPayloads,
    TelegramInput,
    TelegramSender,
    TelegramSettings,
    main as telegram_cli,
    read_update,
    split_text,
)
from bot.procs import PROJECT_ROOT, ManagedProcess, free_port
from bot.stack import StackConfig, rasa_process
from tests.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.fake_cloud import FakeCloud, RecordedRequest
from tests.test_e2e_conversations import request_number, stored

pytestmark = pytest.mark.e2e

EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval" / "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FAKE_JPEG = b"\xff\xd8\xff\xe0fakejpeg"
POLITE = "Sorry, I can only read text messages, locations, photos and contacts."

# Ids no eval payload uses; chat ids far from epoch seconds, so a log search means something.
_update_ids = itertools.count(700_000_000 + random.randint(0, 10_000_000))


def new_chat_id() -> int:
    return random.randint(5_000_000_000, 5_999_999_999)


def eval_payloads() -> List[Tuple[str, Dict[str, Any]]]:
    """Every Update example in the shared evaluation set, named file:key."""
    payloads = []
    for path in sorted(EVAL_DIR.glob("*.json")):
        for key, value in json.loads(path.read_text()).items():
            if not key.startswith("_"):
                payloads.append((f"{path.stem}:{key}", value))
    return payloads


class TelegramChat:
    """One resident's private chat with the bot, posting updates the way Telegram does."""

    def __init__(self, stack: Any, cloud: FakeCloud) -> None:
        self.url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/telegram/webhook"
        self.cloud = cloud
        self.chat_id = new_chat_id()
        self.user = {"id": self.chat_id, "is_bot": False, "first_name": "Rita", "language_code": "en"}
        self.chat = {"id": self.chat_id, "first_name": "Rita", "type": "private"}

    def update(self, **content: Any) -> Dict[str, Any]:
        """A `message` update from this chat carrying `content` (text=..., photo=..., ...)."""
        message = {"message_id": random.randint(1, 10**6), "from": self.user, "chat": self.chat,
                   "date": int(time.time()), **content}
        return {"update_id": next(_update_ids), "message": message}

    def post(self, update: Any, secret: Optional[str] = TELEGRAM_SECRET, raw: Optional[bytes] = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = raw if raw is not None else json.dumps(update).encode("utf-8")
        return httpx.post(self.url, content=body, headers=headers, timeout=90)

    def sent(self) -> List[Dict[str, Any]]:
        """Every sendMessage to this chat so far."""
        return [r.body for r in self.cloud.calls("sendMessage") if r.body.get("chat_id") == str(self.chat_id)]

    def deliver(self, update: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Post an update; return the messages the bot sent to this chat in answer."""
        before = len(self.sent())
        answer = self.post(update)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ok": True}
        return self.sent()[before:]

    def send(self, **content: Any) -> List[Dict[str, Any]]:
        return self.deliver(self.update(**content))

    def say(self, text: str) -> str:
        return "\n".join(m["text"] for m in self.send(text=text))

    def press(self, shown: Dict[str, Any], title: str) -> Tuple[str, List[Dict[str, Any]]]:
        """Press the button titled `title` under a message the bot sent; return the callback id and replies."""
        data = dict(keyboard(shown))[title]
        callback_id = f"cb{random.randint(1, 10**12)}"
        message = {"message_id": 77, "from": {"id": 7000000001, "is_bot": True, "first_name": "Riverton 311"},
                   "chat": self.chat, "date": int(time.time()), "text": shown["text"],
                   "reply_markup": json.loads(shown["reply_markup"])}
        query = {"id": callback_id, "from": self.user, "message": message, "chat_instance": "42", "data": data}
        return callback_id, self.deliver({"update_id": next(_update_ids), "callback_query": query})


def keyboard(sent: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(title, callback_data) of the inline keyboard under a sent message."""
    markup = json.loads(sent.get("reply_markup") or "{}")
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


def text_of(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def last_with(messages: List[Dict[str, Any]], needle: str) -> Dict[str, Any]:
    found = [m for m in messages if needle in m["text"]]
    assert found, f"no message with {needle!r} in {text_of(messages)!r}"
    return found[-1]


class RasaLog:
    """The part of the Rasa server's log written since a test started."""

    def __init__(self, stack: Any) -> None:
        self.path: Path = stack.var_dir / "logs" / "rasa.log"
        self.start = self.path.stat().st_size

    def new_text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", "replace")


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
    for name, payload in payloads + [(f"{n} (new id)", {**p, "update_id": next(_update_ids)}) for n, p in payloads]:
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

    small = {"file_id": f"AgADs{random.getrandbits(64):x}", "file_unique_id": "s1", "width": 90, "height": 60,
             "file_size": 1101}
    large = {"file_id": f"AgADl{random.getrandbits(64):x}", "file_unique_id": "l1", "width": 1280, "height": 853,
             "file_size": 98311}
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
    venue = {"location": {"latitude": 41.47321, "longitude": -90.61234}, "title": "Riverton Library",
             "address": "1 Library Plaza"}
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
    sticker = {"file_id": "CAACAgIAAxkBAAEB", "file_unique_id": "AgADz", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False, "emoji": "\U0001f6e0"}
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


# --- sending, outside a conversation turn ------------------------------------------


@pytest.fixture
def sender(fake_cloud) -> TelegramSender:
    return TelegramSender(TelegramSettings(token=TELEGRAM_TOKEN, secret=TELEGRAM_SECRET,
                                           api_base_url=fake_cloud.telegram_base_url,
                                           file_base_url=f"{fake_cloud.base_url}/file/bot"))


def test_outbound_send_splits_long_texts_keeps_buttons_and_waits_out_flood_control(fake_cloud, sender):
    address = str(new_chat_id())
    text = "Update on your request. " + ("The crew has been scheduled. " * 300)
    buttons = [{"title": "Thanks", "payload": "/thank"}, {"title": "Talk to a person", "payload": "/request_human"}]
    fake_cloud.fail_next("sendMessage")  # one 429 "retry after 1 second"

    async def send_once() -> None:
        await sender.send(address, text, buttons)
        await sender.bot.shutdown()

    asyncio.run(send_once())
    sent = [r.body for r in fake_cloud.calls("sendMessage") if r.body.get("chat_id") == address]
    assert len(sent) == 4  # the refused first part, then three parts
    parts = sent[1:]
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert " ".join(p["text"] for p in parts).split() == text.split()
    assert [("Thanks", "/thank"), ("Talk to a person", "/request_human")] == keyboard(parts[-1])
    assert all("reply_markup" not in p for p in parts[:-1])


def test_split_text_counts_what_telegram_counts():
    assert split_text("short") == ["short"]
    assert split_text("   ") == []
    emoji = "\U0001f6a7" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert "".join(parts) == emoji and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    paragraphs = split_text("a" * 3000 + "\n\n" + "b" * 3000)
    assert paragraphs == ["a" * 3000, "b" * 3000]


def test_a_long_button_payload_travels_as_a_key_and_falls_back_to_the_title():
    payloads = ButtonPayloads()
    long_payload = '/report_problem{"description": "' + "a fallen tree blocks the whole street " * 3 + '"}'
    markup = payloads.keyboard([{"title": "Report it", "payload": long_payload}, {"title": "No", "payload": "/deny"}])
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data[1] == "/deny" and len(data[0].encode()) <= 64 and data[0] != long_payload
    assert payloads.payload_for(data[0]) == long_payload

    def press(store: ButtonPayloads) -> Optional[str]:
        update = {"update_id": 1, "callback_query": {
            "id": "q1", "from": {"id": 5, "is_bot": False, "first_name": "R"}, "chat_instance": "1", "data": data[0],
            "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "?",
                        "reply_markup": markup.to_dict()}}}
        return read_update(update, None, store).text

    assert press(payloads) == long_payload
    assert press(ButtonPayloads()) == "Report it"  # after a restart: the title the resident saw


# --- configuration and set-up -------------------------------------------------------


def test_without_a_secret_the_channel_refuses_to_start(caplog, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN", raising=False)
    with caplog.at_level(logging.INFO, logger="bot.channels.telegram"):
        channel = TelegramInput.from_credentials(None)
    assert channel.sender is None and channel.get_output_channel() is None
    assert any(r.levelno == logging.ERROR and "TELEGRAM_SECRET_TOKEN is not" in r.getMessage() for r in caplog.records)


@pytest.fixture
def server_without_telegram(trained_model, tmp_path) -> Iterator[ManagedProcess]:
    """A second Rasa server, started as `make run` does when no channel is configured."""
    blank = {name: "" for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN", "TWILIO_ACCOUNT_SID",
                                    "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")}
    config = StackConfig(rasa_port=free_port(), action_port=free_port(), var_dir=tmp_path, model_path=trained_model,
                         extra_env=blank)
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


def test_set_webhook_registers_the_url_and_the_secret(fake_cloud, monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_cloud.telegram_base_url)
    monkeypatch.delenv("TELEGRAM_FILE_BASE_URL", raising=False)
    before = len(fake_cloud.calls("setWebhook"))
    assert telegram_cli(["set-webhook", "--public-url", "https://bot.riverton.example/"]) == 0
    calls: List[RecordedRequest] = fake_cloud.calls("setWebhook")[before:]
    assert len(calls) == 1
    assert calls[0].body["url"] == "https://bot.riverton.example/webhooks/telegram/webhook"
    assert calls[0].body["secret_token"] == TELEGRAM_SECRET
    assert set(json.loads(calls[0].body["allowed_updates"])) == {"message", "edited_message", "callback_query"}

    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN")
    assert telegram_cli(["set-webhook", "--public-url", "https://bot.riverton.example"]) == 1
    assert "TELEGRAM_SECRET_TOKEN" in capsys.readouterr().err
    assert len(fake_cloud.calls("setWebhook")) == before + 1
