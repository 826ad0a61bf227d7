"""Whether an answer to "Where is it?" names a place a crew can go to, and which.

A place is a street address or an intersection (the project's own patterns,
then `usaddress`, the parser made for US addresses), a named street ("the bus
stop on Oak Avenue", "calle Elm"), or one of the city file's landmarks in any
city language ("in front of the library"). Anything else ("street or
pavement", "my street", "outside") is not a place: it is never filed as the
location nor used to look for duplicates, and the resident is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Tuple

import usaddress

from bot.catalog import Landmark, load_city
from bot.i18n.languages import city_languages
from bot.reports.answers import find_address
from bot.reports.vocabulary import Vocabulary, fold, normalise, vocabulary

_STREET_TYPES = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|"
    r"parkway|pkwy|highway|hwy|terrace|ter|circle|cir|alley|square|sq|trail|trl"
)
# "<name> Street": the word before a street type is its name, unless it is no name ("my street").
_NAMED_STREET = re.compile(rf"\b([^\W_][\w'.-]*)\s+(?:{_STREET_TYPES})\b\.?", re.IGNORECASE)
ADDRESS, INTERSECTION, STREET, LANDMARK = "address", "intersection", "street", "landmark"


@dataclass(frozen=True)
class Place:
    """A place found in an answer: what to file as the location, and what to search duplicates near."""

    location: str
    search: str
    kind: str


def read_place(text: str) -> Optional[Place]:
    """The place `text` names, or None when it names none."""
    said = " ".join(text.split()).strip(" .,;")
    if not said:
        return None
    words = vocabulary()
    address = find_address(said)
    if address:
        return Place(said, address, ADDRESS)
    tagged = _usaddress_place(said, words)
    if tagged:
        return tagged
    street = _named_street(said, words)
    if street:
        return Place(said, street, STREET)
    landmark = _landmark_in(said)
    if landmark:
        shown = said if fold(landmark.address) in fold(said) else f"{said} ({landmark.name}, {landmark.address})"
        return Place(shown, landmark.address or landmark.name, LANDMARK)
    return None


def _usaddress_place(said: str, words: Vocabulary) -> Optional[Place]:
    """An address or intersection as `usaddress` reads it (Spanish joiners read as "and")."""
    try:
        parts, kind = usaddress.tag(_as_english_joiners(said, words))
    except usaddress.RepeatedLabelError:
        return None
    name = str(parts.get("StreetName") or "")
    if not name or normalise(name.split()[0]) in words.not_street_names:
        return None
    if kind == "Street Address" and any(ch.isdigit() for ch in str(parts.get("AddressNumber") or "")):
        return Place(said, said, ADDRESS)
    if kind == "Intersection" and parts.get("SecondStreetName"):
        return Place(said, said, INTERSECTION)
    return None


def _named_street(said: str, words: Vocabulary) -> Optional[str]:
    """A street named in the answer: "<name> Avenue", or a prefix language's "calle <name>"."""
    for match in _NAMED_STREET.finditer(said):
        if normalise(match.group(1)) not in words.not_street_names:
            return match.group(0).strip(" .")
    for match in _prefixed_street(words.street_prefixes).finditer(said):
        if normalise(match.group(1)) not in words.not_street_names:
            return match.group(0).strip(" .")
    return None


@lru_cache(maxsize=4)
def _prefixed_street(prefixes: Tuple[str, ...]) -> Pattern[str]:
    alternatives = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\.?\s+([^\W_][\w'.-]*)", re.IGNORECASE)


def _as_english_joiners(said: str, words: Vocabulary) -> str:
    """ "Main St y 5th Ave" -> "Main St and 5th Ave": usaddress knows English joiners only."""
    others = [j for j in words.intersection_joiners if j.isalpha() and j not in ("and", "at")]
    if not others:
        return said
    pattern = r"\s+(?:" + "|".join(re.escape(j) for j in others) + r")\s+"
    return re.sub(pattern, " and ", said, flags=re.IGNORECASE)


def _landmark_in(said: str) -> Optional[Landmark]:
    """The one landmark whose name or alias (in any city language) the answer holds."""
    folded = f" {normalise(said)} "
    found = [landmark for landmark, names in _landmark_names().items() if any(f" {name} " in folded for name in names)]
    return found[0] if len(found) == 1 else None


def _landmark_names() -> Dict[Landmark, List[str]]:
    """Each landmark's name and aliases, in every city language, normalised."""
    city = load_city()
    names: Dict[Landmark, List[str]] = {}
    for landmark in city.landmarks:
        aliases = [landmark.name, *landmark.aliases]
        for language in city_languages():
            translated = ((city.translations.get(language) or {}).get("landmarks") or {}).get(landmark.name) or {}
            aliases.extend(str(alias) for alias in translated.get("aliases") or [])
        names[landmark] = [said for said in dict.fromkeys(normalise(alias) for alias in aliases) if said]
    return names
