"""Rasa's SQL tracker store in tests: its settings for a database URL, and conversations written by Rasa's own code."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from sqlalchemy.engine import make_url

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # 03:00 in Riverton (America/Chicago)


def tracker_store_settings(url: str) -> Dict[str, Any]:
    """`dialect`, `db` and, for a server, `host`, `port`, `username`, `password` (SQLite: the file is `db`)."""
    parts = make_url(url)
    if parts.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parts.database}
    return {
        "dialect": parts.get_backend_name(),
        "host": parts.host,
        "port": parts.port,
        "username": parts.username,
        "password": parts.password,
        "db": parts.database,
    }


def said(text: str, at: datetime, channel: str) -> List[Event]:
    """A resident's message and the bot's answer, as Rasa records them."""
    return [
        UserUttered(text, intent={"name": "faq", "confidence": 1.0}, input_channel=channel, timestamp=at.timestamp()),
        ActionExecuted("utter_faq", timestamp=at.timestamp() + 1),
        BotUttered(f"answer to {text}", timestamp=at.timestamp() + 1),
        ActionExecuted("action_listen", timestamp=at.timestamp() + 1),
    ]


async def record(url: str, sender_id: str, *turns: List[Event], domain: Optional[Domain] = None) -> None:
    """Store a conversation's turns as Rasa's SQL tracker store does (SQLite or PostgreSQL `url`; `domain`: the
    slots the turns set, none by default)."""
    store = SQLTrackerStore(domain or Domain.empty(), **tracker_store_settings(url))
    tracker = await store.get_or_create_tracker(sender_id, append_action_listen=False)
    for turn in turns:
        for event in turn:
            tracker.update(event)
    await store.save(tracker)
    store.engine.dispose()
