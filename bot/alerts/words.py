"""Alert topics and zones as residents say them, and as subscriptions describe them.

The NLU's `alert_topic` and `zone` entities (and SMS keywords) come in many
spellings: "storm", "boil water", "road closures", "eastside". They are read
here into the stored values: topic weather|water|roads|all, zone
north|east|south|west|all ("all" meaning any).
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

ALL = "all"
TOPICS: Tuple[str, ...] = ("weather", "water", "roads")
ZONES: Tuple[str, ...] = ("north", "east", "south", "west")
SEVERITIES: Tuple[str, ...] = ("info", "advisory", "warning", "emergency")

# Phrases (lower case, as words) for each topic; longer phrases win over shorter ones.
TOPIC_WORDS: Dict[str, Tuple[str, ...]] = {
    "weather": (
        "weather",
        "storm",
        "storms",
        "severe weather",
        "heat",
        "heat wave",
        "heatwave",
        "hot weather",
        "extreme heat",
        "cold",
        "cold snap",
        "freeze",
        "freezing",
        "snow",
        "snowstorm",
        "blizzard",
        "ice",
        "ice storm",
        "tornado",
        "tornadoes",
        "wind",
        "high wind",
        "thunderstorm",
        "thunderstorms",
        "hurricane",
        "flood",
        "floods",
        "flooding",
        "flash flood",
        "winter weather",
    ),
    "water": (
        "water",
        "boil water",
        "boil-water",
        "boil water notice",
        "boil notice",
        "drinking water",
        "tap water",
        "water main",
        "water mains",
        "water quality",
        "water outage",
        "water service",
        "water shutoff",
    ),
    "roads": (
        "road",
        "roads",
        "road closure",
        "road closures",
        "closures",
        "closed roads",
        "street closure",
        "street closures",
        "streets",
        "traffic",
        "detour",
        "detours",
        "road conditions",
        "road work",
        "roadwork",
        "bridge closure",
        "plowing",
        "snow plowing",
    ),
    ALL: ("everything", "all topics", "every topic", "all kinds", "all types", "all alerts"),
}

ZONE_WORDS: Dict[str, Tuple[str, ...]] = {
    "north": ("north", "northside", "north side", "northern", "north zone", "north end", "north riverton"),
    "east": ("east", "eastside", "east side", "eastern", "east zone", "east end", "east riverton"),
    "south": ("south", "southside", "south side", "southern", "south zone", "south end", "south riverton"),
    "west": ("west", "westside", "west side", "western", "west zone", "west end", "west riverton"),
    ALL: (
        "citywide",
        "city-wide",
        "city wide",
        "whole city",
        "entire city",
        "all zones",
        "every zone",
        "all neighborhoods",
        "everywhere",
        "all areas",
    ),
}

_TOPIC_LOOKUP = {phrase: topic for topic, phrases in TOPIC_WORDS.items() for phrase in phrases}
_ZONE_LOOKUP = {phrase: zone for zone, phrases in ZONE_WORDS.items() for phrase in phrases}


def _clean(value: str) -> str:
    return re.sub(r"[^a-z0-9 -]+", " ", value.lower()).replace("_", " ").strip()


def _normalize(value: Optional[str], lookup: Dict[str, str], allowed: Sequence[str]) -> Optional[str]:
    if not isinstance(value, str):
        return None
    text = " ".join(_clean(value).split())
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


def _find(text: str, lookup: Dict[str, str]) -> List[str]:
    """Values whose phrases occur in `text` as whole words, longest phrases first, in order of appearance."""
    words = f" {' '.join(_clean(text).split())} "
    found: List[Tuple[int, str]] = []
    for phrase in sorted(lookup, key=len, reverse=True):
        needle = f" {phrase} "
        start = words.find(needle)
        while start >= 0:
            found.append((start, lookup[phrase]))
            # Blank the match so a shorter phrase inside it is not counted again.
            words = words[:start] + " " * (len(needle) - 1) + words[start + len(needle) - 1 :]
            start = words.find(needle)
    values: List[str] = []
    for _, value in sorted(found):
        if value not in values:
            values.append(value)
    return values


def topics_in(text: str) -> List[str]:
    """The topics a message names ("water and road alerts" -> water, roads)."""
    return _find(text, _TOPIC_LOOKUP)


def zones_in(text: str) -> List[str]:
    """The zones a message names ("for the east side" -> east)."""
    return _find(text, _ZONE_LOOKUP)


def collapse(values: Iterable[str]) -> List[str]:
    """Values as stored: "all" alone when it is named, else each named value once."""
    unique = list(dict.fromkeys(v for v in values if v))
    return [ALL] if not unique or ALL in unique else unique


def topic_label(topic: str) -> str:
    return "all alerts" if topic == ALL else f"{topic} alerts"


def zone_label(zone: str) -> str:
    return "citywide" if zone == ALL else f"for the {zone.title()} zone"


def describe(pairs: Iterable[Tuple[str, str]]) -> str:
    """Subscriptions in a sentence: "water alerts for the North zone and all alerts citywide"."""
    parts = [f"{topic_label(t)} {zone_label(z)}" for t, z in sorted(pairs, key=lambda p: (p[0] != ALL, p))]
    if not parts:
        return "no alerts"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def city_name() -> str:
    """The city as a sentence names it: "the City of Riverton"."""
    from bot.catalog import load_city

    name = load_city().name or "the city"
    return f"the {name}" if name.lower().startswith("city of") else name
