"""SMS keywords for alerts: "ALERTS ON", "ALERTS OFF WATER", "ALERTAS SI AGUA NORTE", "ALERTAS NO".

Texters expect short keywords to work without a conversation. A message is an
alert keyword when it names an alert word (ALERT(S), ALERTA(S)) and otherwise
holds only keyword words (a verb, topics, zones and a few fillers) of any city
language; anything else ("alerts about the flooding on my street?") is left to
the assistant. A bare STOP is never one: it is the carrier's opt-out
(bot.channels.sms_keywords), handled before this and stronger than any
subscription. The words are data: `keyword_*` in
`bot/i18n/locales/<lang>/words/alerts.yml`.

The alert word says which language the resident is texting in: the reply is in
it, and it is remembered as the language of what the city sends this resident
outside a conversation (`bot.i18n.store`), the alerts first. A keyword never
reaches Rasa, so the conversation's own memory (the `language` slot) is not
touched: the resident's next message to the assistant is answered by the
usual rules (bot/i18n/choice.py), and a change there is stored again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import FrozenSet, Iterable, List, Optional

from bot.alerts import store
from bot.alerts.texts import city_in_sentence, describe
from bot.alerts.words import ALL, AREA, fold, phrase_words, topics_in, zones_in
from bot.channels.hooks import register_keyword_handler
from bot.failures import failure_summary
from bot.i18n.languages import city_languages, default_language
from bot.i18n.messages import Messages, messages
from bot.i18n.store import remember_language
from bot.i18n.words import word_list, words_of

logger = logging.getLogger(__name__)


def _upper(words: Iterable[str]) -> FrozenSet[str]:
    """Words as a keyword is compared: upper case, without accents ("SÍ" -> "SI")."""
    return frozenset(fold(word).upper() for word in words)


@dataclass(frozen=True)
class Vocabulary:
    """Every city language's keyword words together: residents mix them ("ALERTS SI")."""

    alert: FrozenSet[str]  # ALERTS, ALERTAS
    on: FrozenSet[str]
    off: FrozenSet[str]
    every: FrozenSet[str]  # all a keyword may hold: those, fillers, and the words of topics and zones


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    alert, on, off, filler = (_upper(word_list(AREA, f"keyword_{name}")) for name in ("alert", "on", "off", "filler"))
    return Vocabulary(alert, on, off, alert | on | off | filler | _upper(phrase_words()))


@dataclass(frozen=True)
class AlertCommand:
    """What an alert keyword asks: on, off or status, for some topics and zones (empty: all), and in which language."""

    action: str  # "on", "off" or "status"
    topics: List[str]
    zones: List[str]
    language: str  # the language of its alert word


def _words(text: str) -> List[str]:
    return re.sub(r"[^A-Za-z0-9 ]+", " ", fold(text or "")).upper().split()


@lru_cache(maxsize=8)
def _alert_words_of(language: str) -> FrozenSet[str]:
    return _upper(words_of(language, AREA, "keyword_alert"))


def keyword_language(words: List[str]) -> str:
    """The language whose alert word comes first in the message ("ALERTAS" -> es), else the default."""
    for word in words:
        for language in city_languages():
            if word in _alert_words_of(language):
                return language
    return default_language()


def parse_alert_keyword(text: str) -> Optional[AlertCommand]:
    """The alert command a whole message is, or None when it is not an alert keyword."""
    known = vocabulary()
    words = _words(text)
    if not words or len(words) > 12 or not known.alert & set(words):
        return None
    if any(word not in known.every for word in words):
        return None
    lower = " ".join(words).lower()
    topics, zones = topics_in(lower, keyword=True), zones_in(lower, keyword=True)
    verbs = [w for w in words if w in known.on | known.off]
    if any(w in known.off for w in verbs):
        action = "off"
    elif verbs or topics or zones:
        action = "on"
    else:
        action = "status"
    return AlertCommand(action, topics, zones, keyword_language(words))


def stop_hint(text: Messages) -> str:
    return text.text("alerts.stop_hint.text")


def subscribed_reply(change: store.SubscriptionChange, text: Messages) -> str:
    done = text.text("alerts.keyword.subscribed", city=city_in_sentence(text), subscriptions=change.describe(text))
    return f"{done} {stop_hint(text)}"


def unsubscribed_reply(change: store.SubscriptionChange, text: Messages) -> str:
    if not change.before:
        return f"{text.text('alerts.keyword.none_before')} {text.text('alerts.keyword.how_to')}"
    if not change.after:
        return text.text("alerts.keyword.all_off")
    key = "alerts.keyword.partly" if change.changed else "alerts.keyword.unchanged"
    return text.text(key, subscriptions=change.describe(text))


def status_reply(pairs: List[store.Pair], text: Messages) -> str:
    return f"{text.text('alerts.keyword.status', subscriptions=describe(pairs, text))} {stop_hint(text)}"


async def apply_command(sender_id: str, command: AlertCommand) -> str:
    """Carry out an alert command for a conversation; the reply to send, in the keyword's language.

    A bare keyword ("ALERTS", "ALERTAS") tells a subscriber what they get, and
    subscribes anyone else to all alerts: it is what a poster tells residents to text.
    """
    text = messages(command.language)
    topics = list(command.topics) or None
    zones = list(command.zones) or None
    if command.action == "off":
        return unsubscribed_reply(await store.unsubscribe(sender_id, topics, zones), text)
    if command.action == "status":
        current = await store.subscriptions_of(sender_id)
        if current:
            return status_reply(current, text)
    return subscribed_reply(await store.subscribe(sender_id, topics or [ALL], zones or [ALL]), text)


async def _remember(sender_id: str, language: str) -> None:
    """The keyword's language for what is sent to this resident later; a database hiccup costs only that."""
    try:
        await remember_language(sender_id, language)
    except Exception as error:  # the keyword's own answer must not fail for it
        logger.warning("could not store a resident's language: %s", failure_summary(error))


async def handle_alert_keyword(sender_id: str, text: str) -> Optional[str]:
    """For the SMS/WhatsApp channel: carry out an alert keyword and return the reply text,
    or None when the message is not an alert keyword (then it goes to the assistant).

    The channel calls it through bot.channels.hooks, after the carrier keywords
    (STOP/START/HELP) and the opted-out check, before the message is handed to Rasa.
    """
    command = parse_alert_keyword(text)
    if command is None:
        return None
    await _remember(sender_id, command.language)
    return await apply_command(sender_id, command)


def register_channel_hooks() -> None:
    """Let the SMS/WhatsApp channel hand alert keywords here (when the Rasa server starts)."""
    register_keyword_handler(handle_alert_keyword)
