"""Crisis alerts in conversation: "send me emergency alerts", "stop the water alerts for the north side".

The conversation (sender id) is what subscribes: alerts reach the resident on
the channel they are talking on, in the language they read. Topic and zone
come from the `alert_topic` and `zone` entities, else from the words of the
message (bot.alerts.words, every city language's), so the actions work
whether or not an entity extractor is configured.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import WINDOWED_CHANNELS, latest_text, resident_messages
from bot.alerts import store
from bot.alerts.texts import city_in_sentence
from bot.alerts.words import ALL, normalize_topic, normalize_zone, topics_in, zones_in
from bot.db.contacts import contact_for
from bot.i18n.city import city_info
from bot.i18n.messages import Messages

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


def how_to_stop(channel: Optional[str], text: Messages) -> str:
    """Keywords on SMS and WhatsApp, words in a chat."""
    return text.text("alerts.stop_hint.text" if channel in TEXT_CHANNELS else "alerts.stop_hint.chat")


def unreachable_text(text: Messages) -> str:
    return text.text("alerts.unreachable", phone=city_info(text.language).get("phone_311", "311"))


class ActionSubscribeAlerts(Action):
    """Subscribes the conversation to crisis alerts (a topic and zone when named, else all)."""

    def name(self) -> Text:
        return "action_subscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = resident_messages(tracker)
        contact = await contact_for(tracker.sender_id)
        if contact is None:
            dispatcher.utter_message(text=unreachable_text(text))
            return []
        topics, zones = requested(tracker)
        change = await store.subscribe(tracker.sender_id, topics or [ALL], zones or [ALL])
        what = change.describe(text)
        if change.changed:
            parts = [text.text("alerts.subscribed", city=city_in_sentence(text), subscriptions=what)]
        else:
            parts = [text.text("alerts.already_subscribed", subscriptions=what)]
        if ALL in (topics or [ALL]) and ALL in (zones or [ALL]):
            parts.append(text.text("alerts.narrow_hint"))
        if contact.channel in WINDOWED_CHANNELS:
            parts.append(text.text("alerts.meta_window"))  # Meta delivers only within 24 hours of their last message
        parts.append(how_to_stop(contact.channel, text))
        dispatcher.utter_message(text=" ".join(parts))
        return []


class ActionUnsubscribeAlerts(Action):
    """Stops crisis alerts: all of them, or only a topic or zone when one is named."""

    def name(self) -> Text:
        return "action_unsubscribe_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = resident_messages(tracker)
        topics, zones = requested(tracker)
        change = await store.unsubscribe(tracker.sender_id, topics or None, zones or None)
        if not change.before:
            reply = text.text("alerts.unsubscribed.none")
        elif not change.after:
            reply = text.text("alerts.unsubscribed.all")
        else:
            key = "alerts.unsubscribed.partly" if change.changed else "alerts.unsubscribed.unchanged"
            reply = text.text(key, subscriptions=change.describe(text))
        dispatcher.utter_message(text=reply)
        return []
