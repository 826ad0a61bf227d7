"""A resident talking to the running assistant over Rasa's REST channel."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest

from bot.process.stack import StackConfig
from tests.support.stack import RASA_API_TOKEN


class Conversation:
    """One resident talking to the assistant over Rasa's REST channel (a trusted caller, with the API token)."""

    def __init__(self, rasa_port: int, sender: Optional[str] = None, token: str = RASA_API_TOKEN) -> None:
        self.url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        self.params = {"token": token}
        self.sender = sender or f"resident-{uuid.uuid4().hex[:10]}"
        self.transcript: List[str] = []

    def say(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """Send a message; return the bot's messages (text and buttons)."""
        body: Dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(self.url, json=body, params=self.params, timeout=60)
        response.raise_for_status()
        messages = response.json()
        self.transcript.append(f"> {text}")
        self.transcript.extend(f"< {m.get('text', '')}" for m in messages)
        return messages

    def text(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> str:
        """Send a message; return the bot's replies joined into one string."""
        return "\n".join(m.get("text", "") for m in self.say(text, metadata))

    def tracker(self) -> Dict[str, Any]:
        base = self.url.split("/webhooks/")[0]
        response = httpx.get(f"{base}/conversations/{self.sender}/tracker", params=self.params, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def conversation(stack: StackConfig) -> Conversation:
    return Conversation(stack.rasa_port)
