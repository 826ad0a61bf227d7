"""The rules that decide the language a resident is answered in, one message at a time.

In order: an explicit choice ("español", the language button) wins; a resident
with no language yet gets their channel's hint (Telegram's language_code, the
browser's language, `?lang=`), else what their message looks like, else the
city's default; a resident with a language keeps it unless a message is long
and clearly in another one. Answers to the address, contact and request-number
questions never switch: "12 Elm St" or "ana@example.org" say nothing about
the language a resident reads.

Language identification is unreliable on one or two words (lingua rates
"hello" Spanish), so a short first message is decided by the words each
language's catalog lists as its own ("hola", "thanks"), and by the detector only
when it is quite sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bot.i18n.detection import detect
from bot.i18n.languages import city_languages, default_language, supported
from bot.i18n.words import words_of

# A message switches a remembered language only with this many words and this confidence.
MIN_WORDS_TO_SWITCH = 3
MIN_CONFIDENCE_TO_SWITCH = 0.9
# A first message of MIN_WORDS_TO_SWITCH words or more sets the language with less confidence.
MIN_CONFIDENCE_FIRST = 0.6
# A shorter first message: its own words decide, else the detector must be quite sure.
MIN_CONFIDENCE_SHORT = 0.8
# Questions whose answers are names, numbers and addresses, not sentences.
LANGUAGE_NEUTRAL_SLOTS = frozenset({"location", "contact", "request_id"})
WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Turn:
    """What is known about one resident message when its language is decided."""

    text: str
    remembered: Optional[str] = None  # the resident's language so far (the `language` slot)
    chosen: Optional[str] = None  # an explicit choice: the set_language intent's entity
    hint: Optional[str] = None  # the channel's hint (a language tag)
    requested_slot: Optional[str] = None  # the form question this message answers, if any


def decide(turn: Turn) -> str:
    """The city language to answer this message in (and to remember)."""
    chosen = supported(turn.chosen)
    if chosen:
        return chosen
    remembered = supported(turn.remembered)
    if remembered and turn.requested_slot in LANGUAGE_NEUTRAL_SLOTS:
        return remembered
    words = [word.casefold() for word in WORD.findall(turn.text)]
    detection = detect(turn.text) if words else None
    long_and_clear = (
        detection is not None and len(words) >= MIN_WORDS_TO_SWITCH and detection.confidence >= MIN_CONFIDENCE_TO_SWITCH
    )
    if remembered:
        return detection.language if long_and_clear and detection else remembered
    hint = supported(turn.hint)
    if hint:
        return detection.language if long_and_clear and detection else hint
    if detection is None:
        return default_language()
    if len(words) >= MIN_WORDS_TO_SWITCH:
        return detection.language if detection.confidence >= MIN_CONFIDENCE_FIRST else default_language()
    return short_message_language(words) or (
        detection.language if detection.confidence >= MIN_CONFIDENCE_SHORT else default_language()
    )


def short_message_language(words: "list[str]") -> Optional[str]:
    """The one city language whose own words (locales/<lang>/words/language.yml) the message uses, if only one."""
    found = {language for language in city_languages() if any(word in _own_words(language) for word in words)}
    return found.pop() if len(found) == 1 else None


def _own_words(language: str) -> "frozenset[str]":
    return frozenset(word.casefold() for word in words_of(language, "language", "own_words"))
