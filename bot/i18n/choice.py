"""The rules that decide the language a resident is answered in, one message at a time.

In order: an explicit choice ("español", the language button) wins; a resident
with no language yet gets their channel's hint (Telegram's language_code, the
browser's language, `?lang=`), else what their message looks like, else the
city's default; a resident with a language keeps it unless a message is long
and clearly in another one. Answers to the address, contact and request-number
questions never switch: "12 Elm St" or "ana@example.org" say nothing about
the language a resident reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bot.i18n.detection import detect
from bot.i18n.languages import default_language, supported

# A message switches a remembered language only with this many words and this confidence.
MIN_WORDS_TO_SWITCH = 3
MIN_CONFIDENCE_TO_SWITCH = 0.9
# A first message sets the language with less: "hola", "gracias", "buenas tardes".
MIN_CONFIDENCE_FIRST = 0.6
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
    words = len(WORD.findall(turn.text))
    detection = detect(turn.text) if words else None
    if remembered:
        if (
            detection
            and detection.language != remembered
            and words >= MIN_WORDS_TO_SWITCH
            and detection.confidence >= MIN_CONFIDENCE_TO_SWITCH
        ):
            return detection.language
        return remembered
    hint = supported(turn.hint)
    if detection and detection.confidence >= (MIN_CONFIDENCE_TO_SWITCH if hint else MIN_CONFIDENCE_FIRST):
        if not hint or words >= MIN_WORDS_TO_SWITCH or detection.language == hint:
            return detection.language
    return hint or default_language()
