"""The rules that decide the language a resident is answered in, one message at a time.

In order: an explicit choice ("español", the language button) wins; a resident
with no language yet gets their channel's hint (Telegram's language_code, the
browser's language, `?lang=`), else what their message looks like, else the
city's default; a resident with a language keeps it unless a message is long
and clearly in another one. Answers to the address, contact and request-number
questions never switch: "12 Elm St" or "ana@example.org" say nothing about
the language a resident reads, and neither does a button's intent payload.

Language identification is unreliable on a few words (lingua rates "hello"
and "hay un bache" wrongly), so a short first message is decided by the words
each language lists as its own ("hola", "thanks", "bache"), and otherwise by the
detector only when it is sure enough for the message's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import FrozenSet, Optional, Sequence

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
TRAILING_REPEAT = re.compile(r"(\w)\1+$")


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
    # A button's intent payload ("/affirm", "/report_pothole") is no one's writing.
    words = [] if turn.text.startswith("/") else [word.casefold() for word in WORD.findall(turn.text)]
    detection = detect(turn.text) if words else None
    long_and_clear = (
        detection is not None and len(words) >= MIN_WORDS_TO_SWITCH and detection.confidence >= MIN_CONFIDENCE_TO_SWITCH
    )
    if long_and_clear and detection:
        return detection.language
    if remembered:
        return remembered
    hint = supported(turn.hint)
    if hint:
        return hint
    if detection is None:
        return default_language()
    own = own_words_language(words)  # unless long and clearly another: "hay un bache" is Spanish, lingua says English
    if own:
        return own
    needed = MIN_CONFIDENCE_FIRST if len(words) >= MIN_WORDS_TO_SWITCH else MIN_CONFIDENCE_SHORT
    return detection.language if detection.confidence >= needed else default_language()


def own_words_language(words: Sequence[str]) -> Optional[str]:
    """The city language with the most of its own words (locales/<lang>/words/language.yml) in the message.

    None when no language's words are there, or two languages tie ("mi trash": Spanglish goes to the detector).
    """
    counts = sorted(
        ((sum(_is_own_word(word, language) for word in words), language) for language in city_languages()),
        reverse=True,
    )
    if not counts or counts[0][0] == 0 or (len(counts) > 1 and counts[1][0] == counts[0][0]):
        return None
    return counts[0][1]


def _is_own_word(word: str, language: str) -> bool:
    """`word` is one of the language's own, also when typed with its last letter repeated ("holaa", "hiii")."""
    own = _own_words(language)
    return word in own or TRAILING_REPEAT.sub(r"\1", word) in own


@lru_cache(maxsize=8)
def _own_words(language: str) -> FrozenSet[str]:
    return frozenset(word.casefold() for word in words_of(language, "language", "own_words"))
