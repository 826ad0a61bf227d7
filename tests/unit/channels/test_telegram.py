"""The Telegram channel's parts that need no running assistant: sending, splitting, buttons, settings, set-up."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import List, Optional

import pytest

from bot.channels.telegram import (
    ButtonPayloads,
    TelegramInput,
    TelegramSender,
    TelegramSettings,
    read_update,
    split_text,
)
from bot.channels.telegram import main as telegram_cli
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
