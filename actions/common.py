"""Small readers of the tracker shared by the actions."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from rasa_sdk import Tracker

from bot.i18n.languages import resident_language as city_language
from bot.i18n.messages import Messages, messages

# Intents that interrupt a form instead of answering its question. Each needs a
# minimum confidence, so that an address or description that merely resembles a
# question is still taken as the answer.
INTERRUPTING_INTENTS: Dict[str, float] = {
    "cancel": 0.6,
    "emergency": 0.5,
    "request_human": 0.6,
    "faq": 0.75,
    "ask_jobs": 0.75,  # city jobs are city questions too (actions/jobs.py)
    "ask_job_details": 0.75,
    "bot_challenge": 0.75,
    "help": 0.75,
    "set_language": 0.6,
}

MISUNDERSTOOD_INTENTS = ("nlu_fallback", "out_of_scope")

# Meta lets the city write first only within 24 hours of the resident's last message on these.
WINDOWED_CHANNELS = ("messenger", "instagram")


def latest_intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    """Name and confidence of the intent of the latest user message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    """The latest user message as typed (a button's payload when a button was pressed)."""
    return ((tracker.latest_message or {}).get("text") or "").strip()


def is_interruption(tracker: Tracker) -> bool:
    """True when the latest message asks for something else than the current question."""
    name, confidence = latest_intent(tracker)
    if latest_text(tracker).startswith("/"):
        return name in INTERRUPTING_INTENTS
    return name in INTERRUPTING_INTENTS and confidence >= INTERRUPTING_INTENTS[name]


def message_metadata(tracker: Tracker) -> Dict[str, Any]:
    """Channel metadata of the latest message (shared location, photo URL)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def shared_coordinates(tracker: Tracker) -> Optional[Tuple[float, float]]:
    """Latitude and longitude a channel attached to the latest message, if valid."""
    location = message_metadata(tracker).get("location")
    if not isinstance(location, dict):
        return None
    try:
        lat = float(location["latitude"])
        lon = float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def shared_media_url(tracker: Tracker) -> Optional[str]:
    """A photo URL a channel attached to the latest message, if any."""
    url = message_metadata(tracker).get("media_url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def resident_language(tracker: Tracker) -> str:
    """The language the resident reads (the `language` slot), the city's default when unset."""
    return city_language(tracker.get_slot("language"))


def resident_messages(tracker: Tracker) -> Messages:
    """The texts of the resident's language, for every message an action writes."""
    return messages(resident_language(tracker))


def form_is_active(tracker: Tracker, form: str) -> bool:
    """Whether `form` was already running before the latest message."""
    return (tracker.active_loop or {}).get("name") == form
