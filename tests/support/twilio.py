"""A resident's phone texting the running assistant through Twilio's signed webhook."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from typing import Dict, List, Optional

import httpx
from twilio.request_validator import RequestValidator

from bot.channels.identity import sender_id_for
from tests.support.fake_cloud import FakeCloud, RecordedRequest
from tests.support.stack import SHARED, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER

WEBHOOK = "/webhooks/twilio/webhook"
EXAMPLES = json.loads((SHARED / "eval" / "twilio" / "inbound_sms_webhook_examples.json").read_text(encoding="utf-8"))

_serial = itertools.count(random.randint(0, 5000))
USED_NUMBERS: List[str] = []


def new_number() -> str:
    """A phone number no other test (or earlier session) texted from."""
    number = f"+1555{random.randint(100, 999)}{next(_serial) % 10000:04d}"
    USED_NUMBERS.append(number)
    return number


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
        return httpx.post(
            url, data=form, headers={"X-Twilio-Signature": signature, **kwargs.pop("headers", {})}, timeout=60, **kwargs
        )

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
        new = self.sent_to_me()[self.read_so_far :]
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
