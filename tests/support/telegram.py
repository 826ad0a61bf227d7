"""A resident's private Telegram chat with the running assistant, posting updates the way Telegram does."""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any, Dict, List, Optional, Tuple

import httpx

from tests.support.fake_cloud import FakeCloud
from tests.support.stack import TELEGRAM_SECRET

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Ids no eval payload uses; chat ids far from epoch seconds, so a log search means something.
update_ids = itertools.count(700_000_000 + random.randint(0, 10_000_000))


def new_chat_id() -> int:
    return random.randint(5_000_000_000, 5_999_999_999)


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
        message = {
            "message_id": random.randint(1, 10**6),
            "from": self.user,
            "chat": self.chat,
            "date": int(time.time()),
            **content,
        }
        return {"update_id": next(update_ids), "message": message}

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
        message = {
            "message_id": 77,
            "from": {"id": 7000000001, "is_bot": True, "first_name": "Riverton 311"},
            "chat": self.chat,
            "date": int(time.time()),
            "text": shown["text"],
            "reply_markup": json.loads(shown["reply_markup"]),
        }
        query = {"id": callback_id, "from": self.user, "message": message, "chat_instance": "42", "data": data}
        return callback_id, self.deliver({"update_id": next(update_ids), "callback_query": query})


def keyboard(sent: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(title, callback_data) of the inline keyboard under a sent message."""
    markup = json.loads(sent.get("reply_markup") or "{}")
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]
