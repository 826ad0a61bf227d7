"""Crisis alerts in conversation: "send me emergency alerts", "stop the water alerts for the north side".

The conversation (sender id) is what subscribes: alerts reach the resident on
the channel they are talking on. Topic and zone come from the `alert_topic` and
`zone` entities, else from the words of the message (bot.alerts.words), so the
actions work whether or not an entity extractor is configured.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text
from bot.alerts import store
from bot.alerts.words import ALL, city_name, normalize_topic, normalize_zone, topics_in, zones_in
from bot.catalog import load_city
from bot.db.contacts import contact_for

logger = logging.getLogger(__name__)

TOPIC_ENTITY = "alert_topic"
ZONE_ENTITY = "zone"
TEXT_CHANNELS = ("sms", "whatsapp")


def requested(tracker: Tracker) -> Tuple[List[str], List[str]]:
    """Topics and zones the latest message names (entities first, else its words); empty means all."""
    entities: List[Dict[str, Any]] = (tracker.latest_message or {}).get("entities") or []
    named_topics = [normalize_topic(e.get("value")) for e in entities if e.get("entity") == TOPIC_ENTITY]
    named_zones = [normalize_zone(e.get("value")) for e in entities if e.get("entity") == ZONE_ENTITY]
    topics = [t for t in named_topics if t]
    zones = [z for z in named_zones if z]
    if not topics and not zones:
        text = latest_text(tracker)
        topics, zones = topics_in(text), zones_in(text)
    return list(dict.fromkeys(topics)), list(dict.fromkeys(zones))


def how_to_stop(channel: Optional[str]) -> str:
    if channel in TEXT_CHANNELS:
        return "Reply ALERTS OFF to stop alerts, STOP to stop all messages."
    return 'Say "stop alerts" any time to stop them.'


def unreachable_text() -> str:
    city = load_city()
    return (
        "I can send emergency alerts by text message, WhatsApp, Telegram or the city's web chat, "
        "but not to this conversation. Text ALERTS ON to the city's 311 number to get them, "
        f"or call {city.info.get('phone_311', '311')}."
    )


class ActionSubscribeAlerts(Action):
    """Subscribes the conversation to crisis alerts (a topic and zone when named, else all)."""

    def name(self) -> Text:
        return "action_subscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        contact = await contact_for(tracker.sender_id)
        if contact is None:
            dispatcher.utter_message(text=unreachable_text())
            return []
        topics, zones = requested(tracker)
        change = await store.subscribe(tracker.sender_id, topics or [ALL], zones or [ALL])
        if change.changed:
            text = f"Done: you'll get emergency alerts from {city_name()} here: {change.describe()}."
        else:
            text = f"You're already getting {change.describe()}."
        if ALL in (topics or [ALL]) and ALL in (zones or [ALL]):
            text += ' To narrow them, say for example "only water alerts for the North zone".'
        dispatcher.utter_message(text=f"{text} {how_to_stop(contact.channel)}")
        return []


class ActionUnsubscribeAlerts(Action):
    """Stops crisis alerts: all of them, or only a topic or zone when one is named."""

    def name(self) -> Text:
        return "action_unsubscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        topics, zones = requested(tracker)
        change = await store.unsubscribe(tracker.sender_id, topics or None, zones or None)
        if not change.before:
            text = "You weren't getting emergency alerts, so there's nothing to stop."
        elif not change.after:
            text = (
                'Emergency alerts are off: you won\'t get any more. Say "send me emergency alerts" to get them again.'
            )
        elif not change.changed:
            text = f'That didn\'t change anything: you get {change.describe()}. Say "stop alerts" to stop them all.'
        else:
            text = f'Done. You still get {change.describe()}. Say "stop alerts" to stop them all.'
        dispatcher.utter_message(text=text)
        return []
