"""A resident writing to the city's Facebook Page or Instagram account, as Meta posts it to the assistant.

Bodies are shaped like Meta's webhook events (the shared eval set's examples)
and signed as Meta signs them: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the
raw body under the app secret>`. What the assistant answers is read at the fake
Graph API (tests/support/fake_cloud.py), which records every Send API call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

import httpx

from bot.process.procs import PROJECT_ROOT
from tests.support.fake_cloud import CDN_PREFIX, FakeCloud, RecordedRequest
from tests.support.stack import MESSENGER_APP_SECRET, MESSENGER_PAGE_ID

SIGNATURE_HEADER = "X-Hub-Signature-256"
INSTAGRAM_ACCOUNT_ID = "17841400000000311"


def signature(body: bytes, secret: str = MESSENGER_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def post_webhook(stack: Any, body: bytes, signed: Optional[str] = "valid") -> httpx.Response:
    """POST raw bytes to the webhook; `signed`: "valid", None (no header) or the header's value."""
    headers = {"Content-Type": "application/json"}
    if signed == "valid":
        headers[SIGNATURE_HEADER] = signature(body)
    elif signed is not None:
        headers[SIGNATURE_HEADER] = signed
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/messenger/webhook"
    return httpx.post(url, content=body, headers=headers, timeout=120)


def wrap(item: Dict[str, Any], instagram: bool = False) -> Dict[str, Any]:
    """One messaging item as the body Meta posts (object, entry, messaging)."""
    return {
        "object": "instagram" if instagram else "page",
        "entry": [
            {
                "id": INSTAGRAM_ACCOUNT_ID if instagram else MESSENGER_PAGE_ID,
                "time": int(time.time() * 1000),
                "messaging": [item],
            }
        ],
    }


class MetaResident:
    """One resident's thread with the Page (or the Instagram account)."""

    def __init__(self, stack: Any, cloud: FakeCloud, instagram: bool = False) -> None:
        self.stack = stack
        self.cloud = cloud
        self.instagram = instagram
        self.user_id = str(random.randint(10**15, 10**16 - 1))
        self.transcript: List[str] = []  # what `say` said and was answered, as the REST Conversation keeps it

    @property
    def channel(self) -> str:
        return "instagram" if self.instagram else "messenger"

    @property
    def address(self) -> str:
        return f"instagram:{self.user_id}" if self.instagram else self.user_id

    def item(self, **content: Any) -> Dict[str, Any]:
        own = INSTAGRAM_ACCOUNT_ID if self.instagram else MESSENGER_PAGE_ID
        return {
            "sender": {"id": self.user_id},
            "recipient": {"id": own},
            "timestamp": int(time.time() * 1000),
            **content,
        }

    def message(self, **fields: Any) -> Dict[str, Any]:
        """A `message` item with a fresh mid."""
        return self.item(message={"mid": f"m_{uuid.uuid4().hex}", **fields})

    def post(self, body: Dict[str, Any], signed: Optional[str] = "valid") -> httpx.Response:
        return post_webhook(self.stack, json.dumps(body).encode("utf-8"), signed)

    def sent(self) -> List[Dict[str, Any]]:
        """Every Send API body addressed to this resident so far."""
        return [r.body for r in self.sent_calls()]

    def sent_calls(self) -> List[RecordedRequest]:
        return [r for r in self.cloud.calls("messages") if r.body.get("recipient", {}).get("id") == self.user_id]

    def deliver(self, item: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Post one item; return what the assistant sent this resident in answer."""
        before = len(self.sent())
        answer = self.post(wrap(item, self.instagram))
        assert answer.status_code == 200, answer.text
        return self.sent()[before:]

    def send(self, **fields: Any) -> List[Dict[str, Any]]:
        return self.deliver(self.message(**fields))

    def say(self, text: str) -> str:
        reply = text_of(self.send(text=text))
        self.transcript += [f"> {text}", f"< {reply}"]
        return reply

    text = say  # the REST Conversation's name: the shared report walks (tests/e2e/test_conversations*.py) take either

    def tap(self, shown: Dict[str, Any], title: str) -> List[Dict[str, Any]]:
        """Tap a quick reply under a message the assistant sent: its title as text, its payload attached."""
        payload = dict(quick_replies(shown))[title]
        return self.send(text=title, quick_reply={"payload": payload})

    def choose(self, shown: Dict[str, Any], title: str) -> List[Dict[str, Any]]:
        """Pick a choice by its title: its own quick reply, or its number's when the choices came numbered."""
        offered = dict(quick_replies(shown))
        if title in offered:
            return self.tap(shown, title)
        number = re.search(rf"(\d+) \w+ {re.escape(title)}[;.]", shown["message"]["text"])
        assert number, f"{title!r} is not offered in {shown['message']!r}"
        return self.tap(shown, number.group(1))

    def share_location(self, latitude: float, longitude: float) -> List[Dict[str, Any]]:
        location = {"type": "location", "payload": {"coordinates": {"lat": latitude, "long": longitude}}}
        return self.send(attachments=[location])

    def photo_url(self) -> str:
        """A picture's address on the (fake) CDN, as an attachment's payload names it."""
        return f"{self.cloud.base_url}{CDN_PREFIX}t39.1997-6/{uuid.uuid4().hex}_n.jpg?_nc_cat=1&oh=00_x&oe=67A1B2C3"


EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval" / "messenger"
# Levels of the eval set that are not webhook bodies (Send API answers, the GET, raw signed strings).
NOT_WEBHOOK_BODIES = {"send_api_response", "graph_error", "error_object", "http_get", "raw"}


def eval_payloads() -> List[Dict[str, Any]]:
    """Every payload of the shared eval set, each with the `file` it came from."""
    return [
        {**payload, "file": path.name}
        for path in sorted(EVAL_DIR.glob("*.json"))
        for payload in json.loads(path.read_text(encoding="utf-8"))["payloads"]
    ]


def eval_bodies(page_id: str = MESSENGER_PAGE_ID) -> List[Tuple[str, Dict[str, Any]]]:
    """Every published webhook payload as the body Meta posts (items and entries wrapped as its README says)."""
    bodies = []
    for payload in eval_payloads():
        level, body = payload["level"], payload.get("body")
        if level in NOT_WEBHOOK_BODIES or payload["kind"] == "signature_vector":
            continue
        obj = "instagram" if "instagram" in payload["file"] else "page"
        entry: Dict[str, Any] = {"id": page_id, "time": int(time.time() * 1000)}
        if level == "messaging_item":
            body = {"object": obj, "entry": [{**entry, "messaging": [body]}]}
        elif level == "entry":
            body = {"object": obj, "entry": [body]}
        elif level == "changes_value":
            body = {"object": obj, "entry": [{**entry, "changes": [body]}]}
        bodies.append((f"{payload['file']}: {payload['name']}", body))
    return bodies


def text_of(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m["message"].get("text", "") for m in messages)


def quick_replies(sent: Dict[str, Any]) -> List[tuple]:
    """(title, payload) of the quick replies under a sent message."""
    return [(q["title"], q["payload"]) for q in sent["message"].get("quick_replies", [])]


def last_with(messages: List[Dict[str, Any]], needle: str) -> Dict[str, Any]:
    found = [m for m in messages if needle in m["message"].get("text", "")]
    assert found, f"no message with {needle!r} in {text_of(messages)!r}"
    return found[-1]
