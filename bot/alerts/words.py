"""Alert topics and zones as residents say them, in any of the city's languages.

The NLU's `alert_topic` and `zone` entities (and SMS keywords) come in many
spellings: "storm", "boil water", "road closures", "eastside", "inundación",
"zona norte". They are read here into the stored values: topic
weather|water|roads|all, zone north|east|south|west|all ("all" meaning any).
The phrases are data, per language (`bot/i18n/locales/<lang>/words/alerts.yml`);
residents mix languages and drop accents, so every language's phrases are
known at once, each also without its accents.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.i18n.words import word_map

ALL = "all"
TOPICS: Tuple[str, ...] = ("weather", "water", "roads")
ZONES: Tuple[str, ...] = ("north", "east", "south", "west")
SEVERITIES: Tuple[str, ...] = ("info", "advisory", "warning", "emergency")
AREA = "alerts"  # the word files' name


def fold(text: str) -> str:
    """Lower case without accents, as residents type on a phone ("Inundación" -> "inundacion")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _with_unaccented(table: Mapping[str, Tuple[str, ...]]) -> Dict[str, Tuple[str, ...]]:
    """Each phrase as written and, when it differs, without accents (both are what the NLU must find)."""
    return {
        value: tuple(dict.fromkeys(p for phrase in phrases for p in (phrase, fold(phrase))))
        for value, phrases in table.items()
    }


# Phrases (lower case, as words) for each value, every city language's.
TOPIC_WORDS: Dict[str, Tuple[str, ...]] = _with_unaccented(word_map(AREA, "topics"))
ZONE_WORDS: Dict[str, Tuple[str, ...]] = _with_unaccented(word_map(AREA, "zones"))
# Words that name a value only inside an SMS keyword ("ALERTAS SI AGUA ESTE"), not in a sentence ("este barrio").
KEYWORD_TOPIC_WORDS: Dict[str, Tuple[str, ...]] = _with_unaccented(word_map(AREA, "keyword_topics"))
KEYWORD_ZONE_WORDS: Dict[str, Tuple[str, ...]] = _with_unaccented(word_map(AREA, "keyword_zones"))


def _lookup(*tables: Mapping[str, Tuple[str, ...]]) -> Dict[str, str]:
    return {_clean(phrase): value for table in tables for value, phrases in table.items() for phrase in phrases}


def _clean(value: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 -]+", " ", fold(value).replace("_", " ")).split())


_TOPIC_LOOKUP = _lookup(TOPIC_WORDS)
_ZONE_LOOKUP = _lookup(ZONE_WORDS)
_KEYWORD_TOPIC_LOOKUP = _lookup(TOPIC_WORDS, KEYWORD_TOPIC_WORDS)
_KEYWORD_ZONE_LOOKUP = _lookup(ZONE_WORDS, KEYWORD_ZONE_WORDS)


def _normalize(value: Optional[str], lookup: Dict[str, str], allowed: Sequence[str]) -> Optional[str]:
    if not isinstance(value, str):
        return None
    text = _clean(value)
    if text in allowed or text == ALL:
        return text
    if text in lookup:
        return lookup[text]
    for suffix in (" alerts", " alert", " zone", " area", " neighborhood", " side"):
        if text.endswith(suffix) and text[: -len(suffix)].strip() in lookup:
            return lookup[text[: -len(suffix)].strip()]
    return None


def normalize_topic(value: Optional[str]) -> Optional[str]:
    """weather|water|roads|all for an entity value or keyword, None if it is not a topic."""
    return _normalize(value, _TOPIC_LOOKUP, TOPICS)


def normalize_zone(value: Optional[str]) -> Optional[str]:
    """north|east|south|west|all for an entity value or keyword, None if it is not a zone."""
    return _normalize(value, _ZONE_LOOKUP, ZONES)


TOPIC, ZONE = "topic", "zone"
_PHRASES = {**{p: (TOPIC, v) for p, v in _TOPIC_LOOKUP.items()}, **{p: (ZONE, v) for p, v in _ZONE_LOOKUP.items()}}
_KEYWORD_PHRASES = {
    **{p: (TOPIC, v) for p, v in _KEYWORD_TOPIC_LOOKUP.items()},
    **{p: (ZONE, v) for p, v in _KEYWORD_ZONE_LOOKUP.items()},
}


def _find(text: str, phrases: Dict[str, Tuple[str, str]], kind: str) -> List[str]:
    """Values of `kind` whose phrases occur in `text` as whole words, in order of appearance.

    Topic and zone phrases are looked for together, longest first, and each
    match is blanked out, so a shorter phrase inside a longer one does not
    count: "todas" (all topics, in a keyword) inside "todas las zonas" (all
    zones), "nieve" inside "limpieza de nieve".
    """
    words = f" {_clean(text)} "
    found: List[Tuple[int, str]] = []
    for phrase in sorted(phrases, key=len, reverse=True):
        needle = f" {phrase} "
        start = words.find(needle)
        while start >= 0:
            if phrases[phrase][0] == kind:
                found.append((start, phrases[phrase][1]))
            words = words[:start] + " " * (len(needle) - 1) + words[start + len(needle) - 1 :]
            start = words.find(needle)
    return list(dict.fromkeys(value for _, value in sorted(found)))


def topics_in(text: str, keyword: bool = False) -> List[str]:
    """The topics a message names ("water and road alerts" -> water, roads); `keyword`: an SMS keyword's words."""
    return _find(text, _KEYWORD_PHRASES if keyword else _PHRASES, TOPIC)


def zones_in(text: str, keyword: bool = False) -> List[str]:
    """The zones a message names ("for the east side" -> east); `keyword`: an SMS keyword's words."""
    return _find(text, _KEYWORD_PHRASES if keyword else _PHRASES, ZONE)


def phrase_words() -> Iterable[str]:
    """Every word of every topic and zone phrase, keyword-only ones too ("boil", "side", "este")."""
    for table in (TOPIC_WORDS, ZONE_WORDS, KEYWORD_TOPIC_WORDS, KEYWORD_ZONE_WORDS):
        for phrases in table.values():
            for phrase in phrases:
                yield from _clean(phrase).split()


def collapse(values: Iterable[str]) -> List[str]:
    """Values as stored: "all" alone when it is named, else each named value once."""
    unique = list(dict.fromkeys(v for v in values if v))
    return [ALL] if not unique or ALL in unique else unique
