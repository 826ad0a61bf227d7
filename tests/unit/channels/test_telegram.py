"""The Telegram channel's parts that need no running assistant: sending, splitting, buttons, settings, set-up,
and the resident's language (the app's language_code as the hint, fixed replies in the resident's language)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.identity import sender_id_for
from bot.channels.limits import MAX_MESSAGE_CHARS
from bot.channels.telegram import (
    ButtonPayloads,
    TelegramInput,
    TelegramSender,
    TelegramSettings,
    read_update,
    split_text,
)
from bot.channels.telegram import main as telegram_cli
from bot.db.engine import reset_database
from bot.i18n.store import remember_language
from tests.support.fake_cloud import RecordedRequest
from tests.support.stack import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.support.telegram import keyboard, new_chat_id

# --- sending, outside a conversation turn ------------------------------------------


@pytest.fixture
def sender(fake_cloud) -> TelegramSender:
    return TelegramSender(
        TelegramSettings(
            token=TELEGRAM_TOKEN,
            secret=TELEGRAM_SECRET,
            api_base_url=fake_cloud.telegram_base_url,
            file_base_url=f"{fake_cloud.base_url}/file/bot",
        )
    )


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
        update = {
            "update_id": 1,
            "callback_query": {
                "id": "q1",
                "from": {"id": 5, "is_bot": False, "first_name": "R"},
                "chat_instance": "1",
                "data": data[0],
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": {"id": 5, "type": "private"},
                    "text": "?",
                    "reply_markup": markup.to_dict(),
                },
            },
        }
        return read_update(update, None, store).text

    assert press(payloads) == long_payload
    assert press(ButtonPayloads()) == "Report it"  # after a restart: the title the resident saw


# --- configuration and set-up -------------------------------------------------------


def test_without_a_secret_the_channel_refuses_to_start(caplog):
    with caplog.at_level(logging.INFO, logger="bot.channels.telegram"):
        channel = TelegramInput.from_credentials({"token": TELEGRAM_TOKEN, "secret_token": ""})
    assert channel.sender is None and channel.get_output_channel() is None
    assert any(r.levelno == logging.ERROR and "TELEGRAM_SECRET_TOKEN is not" in r.getMessage() for r in caplog.records)


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


# --- the resident's language ------------------------------------------------------------


def message_update(chat_id: int, language_code: Optional[str] = None, **content: Any) -> Dict[str, Any]:
    sender: Dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Rita"}
    if language_code:
        sender["language_code"] = language_code
    chat = {"id": chat_id, "type": "private", "first_name": "Rita"}
    return {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": chat, "from": sender, **content}}


def test_the_telegram_apps_language_is_read_from_every_kind_of_update():
    assert read_update(message_update(5, "es-MX", text="hola"), None, ButtonPayloads()).language == "es-MX"
    assert read_update(message_update(5, text="hi"), None, ButtonPayloads()).language is None
    edited = {"update_id": 2, "edited_message": message_update(5, "es", text="x")["message"]}
    assert read_update(edited, None, ButtonPayloads()).language == "es"
    query = {
        "id": "q1",
        "from": {"id": 5, "is_bot": False, "first_name": "R", "language_code": "es"},
        "chat_instance": "1",
        "data": "/affirm",
        "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "?"},
    }
    assert read_update({"update_id": 3, "callback_query": query}, None, ButtonPayloads()).language == "es"


class RecordingTelegram:
    """The channel's sender, recorded instead of calling Telegram."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    async def send(self, address: str, text: str, buttons: Any = None) -> None:
        self.sent.append((address, text))

    async def answer_callback(self, callback_id: str) -> None:
        pass


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


async def answer(update: Dict[str, Any]) -> Tuple[List[str], List[UserMessage]]:
    """What the resident is sent and what reaches Rasa for one update."""
    sender, to_rasa = RecordingTelegram(), []

    async def on_new_message(message: UserMessage) -> None:
        to_rasa.append(message)

    incoming = read_update(update, None, ButtonPayloads())
    await TelegramInput(TelegramSettings())._answer(sender, 1, incoming, on_new_message)  # type: ignore[arg-type]
    return [text for _, text in sender.sent], to_rasa


async def test_fixed_replies_and_stand_ins_follow_the_stored_language_then_the_apps(database):
    too_long = "x" * (MAX_MESSAGE_CHARS + 1)
    sent, _ = await answer(message_update(new_chat_id(), "es-MX", text=too_long))
    assert sent == [
        "Ese mensaje es demasiado largo para mí. Por favor, envíelo en mensajes más cortos, "
        f"de hasta {MAX_MESSAGE_CHARS} caracteres."
    ]
    sent, _ = await answer(message_update(new_chat_id(), text=too_long))
    assert sent == [
        f"That message is too long for me. Please send it as shorter messages of up to {MAX_MESSAGE_CHARS} characters."
    ]

    reader = new_chat_id()
    await remember_language(sender_id_for("telegram", str(reader)), "es")
    place = {"location": {"latitude": 41.5, "longitude": -90.5}}
    _, (message,) = await answer(message_update(reader, "en", **place))  # the stored language wins over the app's
    assert message.text == "mi ubicación"
    assert message.metadata == {"location": {"latitude": 41.5, "longitude": -90.5}, "language": "en"}
    sent, _ = await answer(message_update(reader, "en", sticker={"file_id": "s"}))
    assert sent == ["Lo siento, solo puedo leer mensajes de texto, ubicaciones, fotos y contactos."]


async def test_the_apps_language_reaches_rasa_as_the_hint_and_english_is_unchanged(database):
    _, (spanish,) = await answer(message_update(new_chat_id(), "es", text="buenas"))
    assert spanish.text == "buenas" and spanish.metadata == {"language": "es"}
    _, (english,) = await answer(message_update(new_chat_id(), location={"latitude": 41.5, "longitude": -90.5}))
    assert english.text == "my location" and "language" not in english.metadata


def test_buttons_without_a_text_are_introduced_in_the_residents_language(fake_cloud, sender, database):
    address = str(new_chat_id())
    asyncio.run(remember_language(sender_id_for("telegram", address), "es"))

    async def send_once() -> None:
        await sender.send(address, "", [{"title": "Sí", "payload": "/affirm"}])
        await sender.bot.shutdown()

    asyncio.run(send_once())
    (sent,) = [r.body for r in fake_cloud.calls("sendMessage") if r.body.get("chat_id") == address]
    assert sent["text"] == "Por favor, elija:"
