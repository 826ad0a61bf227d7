"""SMS keywords for alerts: "ALERTS ON", "ALERTS OFF", "ALERTS ON WATER NORTH", "STOP ALERTS".

Texters expect short keywords to work without a conversation. A message is an
alert keyword when it names ALERT(S) and otherwise holds only keyword words (a
verb, topics, zones and a few fillers); anything else ("alerts about the
flooding on my street?") is left to the assistant. A bare STOP is never one:
it is the carrier's opt-out (bot.channels.sms_keywords), handled before this
and stronger than any subscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from bot.alerts import store
from bot.alerts.words import ALL, TOPIC_WORDS, ZONE_WORDS, city_name, describe, topics_in, zones_in
from bot.channels.hooks import register_keyword_handler

ALERT_WORDS = frozenset({"ALERT", "ALERTS"})
ON_WORDS = frozenset({"ON", "START", "YES", "SUBSCRIBE", "JOIN", "SIGNUP"})
OFF_WORDS = frozenset({"OFF", "STOP", "NO", "UNSUBSCRIBE", "LEAVE", "END", "CANCEL", "QUIT"})
FILLER_WORDS = frozenset(
    {
        "PLEASE",
        "ME",
        "MY",
        "FOR",
        "THE",
        "IN",
        "ZONE",
        "AREA",
        "SIDE",
        "ONLY",
        "AND",
        "TOPICS",
        "TOPIC",
        "EMERGENCY",
        "CITY",
        "TO",
        "OF",
        "SIGN",
        "UP",
    }
)

# The words of every topic and zone phrase ("BOIL", "WATER", "NORTH", "SIDE"...).
PHRASE_WORDS = frozenset(
    word.upper()
    for table in (TOPIC_WORDS, ZONE_WORDS)
    for phrases in table.values()
    for phrase in phrases
    for word in phrase.split()
)
KEYWORD_WORDS = ALERT_WORDS | ON_WORDS | OFF_WORDS | FILLER_WORDS | PHRASE_WORDS

HOW_TO = (
    "Reply ALERTS ON for all alerts, or e.g. ALERTS ON WATER NORTH "
    "(topics: weather, water, roads; zones: north, east, south, west)."
)
STOP_HINT = "Reply ALERTS OFF to stop alerts, STOP to stop all messages."


@dataclass(frozen=True)
class AlertCommand:
    """What an alert keyword asks: on, off or status, for some topics and zones (empty: all)."""

    action: str  # "on", "off" or "status"
    topics: List[str]
    zones: List[str]


def _words(text: str) -> List[str]:
    return re.sub(r"[^A-Za-z0-9 ]+", " ", text or "").upper().split()


def parse_alert_keyword(text: str) -> Optional[AlertCommand]:
    """The alert command a whole message is, or None when it is not an alert keyword."""
    words = _words(text)
    if not words or len(words) > 12 or not ALERT_WORDS & set(words):
        return None
    if any(word not in KEYWORD_WORDS for word in words):
        return None
    lower = " ".join(words).lower()
    topics, zones = topics_in(lower), zones_in(lower)
    verbs = [w for w in words if w in ON_WORDS | OFF_WORDS]
    if any(w in OFF_WORDS for w in verbs):
        action = "off"
    elif verbs or topics or zones:
        action = "on"
    else:
        action = "status"
    return AlertCommand(action, topics, zones)


def subscribed_reply(change: store.SubscriptionChange) -> str:
    return f"You'll get emergency alerts from {city_name()}: {change.describe()}. {STOP_HINT}"


def unsubscribed_reply(change: store.SubscriptionChange) -> str:
    if not change.before:
        return f"You weren't getting emergency alerts. {HOW_TO}"
    if not change.after:
        return "Emergency alerts are off. Reply ALERTS ON to get them again."
    if not change.changed:
        return f"That didn't change anything: you get {change.describe()}. Reply ALERTS OFF to stop all alerts."
    return f"Done. You still get {change.describe()}. Reply ALERTS OFF to stop all alerts."


def status_reply(pairs: List[store.Pair]) -> str:
    if not pairs:
        return f"You don't get emergency alerts. {HOW_TO}"
    return f"You get {describe(pairs)}. {STOP_HINT}"


async def apply_command(sender_id: str, command: AlertCommand) -> str:
    """Carry out an alert command for a conversation; the reply to send."""
    topics = list(command.topics) or None
    zones = list(command.zones) or None
    if command.action == "on":
        return subscribed_reply(await store.subscribe(sender_id, topics or [ALL], zones or [ALL]))
    if command.action == "off":
        return unsubscribed_reply(await store.unsubscribe(sender_id, topics, zones))
    return status_reply(await store.subscriptions_of(sender_id))


async def handle_alert_keyword(sender_id: str, text: str) -> Optional[str]:
    """For the SMS/WhatsApp channel: carry out an alert keyword and return the reply text,
    or None when the message is not an alert keyword (then it goes to the assistant).

    The channel calls it through bot.channels.hooks, after the carrier keywords
    (STOP/START/HELP) and the opted-out check, before the message is handed to Rasa.
    """
    command = parse_alert_keyword(text)
    if command is None:
        return None
    return await apply_command(sender_id, command)


def register_channel_hooks() -> None:
    """Let the SMS/WhatsApp channel hand alert keywords here (when the Rasa server starts)."""
    register_keyword_handler(handle_alert_keyword)
