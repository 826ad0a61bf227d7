"""Understand a resident's free-text answers to the report questions.

Residents answer "big one", "2", "12 elm st" or "skip, thanks" instead of the
exact wording of a button; these pure functions turn such text into values the
back office accepts, so every channel (buttons or not) gets the same behaviour.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from bot.reports.vocabulary import contains_phrase, normalise, vocabulary

_STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|"
    r"parkway|pkwy|highway|hwy|terrace|ter|circle|cir|alley|square|sq|trail|trl"
)
_ADDRESS = re.compile(
    rf"\b(\d{{1,6}}[a-z]?\s+(?:[nsew]\.?\s+)?(?:[a-z0-9'.-]+\s+){{0,4}}(?:{_STREET_SUFFIX})\b\.?)",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+?\d[\s().-]*){7,15}")
# A name as people write it, accents included ("José", "O'Neil", "Ana-María").
_NAME_WORD = r"[^\W\d_](?:[^\W\d_]|['-])+"
_ONE_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|['-])*")


def _alternatives(words: Tuple[str, ...]) -> str:
    """A regex alternation of literal words and phrases, longest first (so "name is" loses to "my name is")."""
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=4)
def _intersection(joiners: Tuple[str, ...]) -> Pattern[str]:
    return re.compile(
        rf"\b((?:[a-z0-9'.-]+\s+){{0,3}}(?:{_STREET_SUFFIX})\.?\s+(?:{_alternatives(joiners)})\s+"
        rf"(?:[a-z0-9'.-]+\s+){{0,3}}(?:{_STREET_SUFFIX})\b\.?)",
        re.IGNORECASE,
    )


@lru_cache(maxsize=4)
def _leading_filler(fillers: Tuple[str, ...]) -> Pattern[str]:
    return re.compile(rf"^(?:(?:{_alternatives(fillers)})\s+)+", re.IGNORECASE)


@lru_cache(maxsize=4)
def _name_intro(intros: Tuple[str, ...]) -> Pattern[str]:
    return re.compile(rf"\b(?:{_alternatives(intros)})\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)", re.IGNORECASE)


def _label(choice: str) -> str:
    """The short form of a choice: "large (bigger than a car tire)" -> "large"."""
    return normalise(choice.split("(")[0])


def match_choice(text: str, choices: Sequence[str]) -> Optional[str]:
    """The one choice the text means, or None when it means none or several.

    Understands the number of the choice in the list ("2"), its exact wording, its
    short label, a known synonym ("big" for "large"), the label appearing inside
    a sentence ("it's in the bike lane"), small typos, and a word of only one
    label ("bridge" for "bridge or overpass"). The synonyms are
    every city language's, keyed by the choice's short label in the back
    office's words (bot/i18n/locales/<lang>/words/reports.yml).
    """
    said = normalise(text)
    if not said or not choices:
        return None
    if said.isdigit() and 1 <= int(said) <= len(choices):
        return choices[int(said) - 1]
    labels = [_label(c) for c in choices]
    for choice, label in zip(choices, labels, strict=True):
        if said in (normalise(choice), label):
            return choice
    hits = [c for c, label in zip(choices, labels, strict=True) if label and contains_phrase(said, label)]
    if len(hits) == 1:
        return hits[0]
    synonyms = vocabulary().choice_synonyms
    synonym_hits = [
        c
        for c, label in zip(choices, labels, strict=True)
        if any(contains_phrase(said, word) for word in synonyms.get(label, ()))
    ]
    if len(synonym_hits) == 1:
        return synonym_hits[0]
    close = difflib.get_close_matches(said, labels, n=2, cutoff=0.75)
    if len(close) == 1:
        return choices[labels.index(close[0])]
    part_of = [c for c, label in zip(choices, labels, strict=True) if len(said) >= 4 and contains_phrase(label, said)]
    return part_of[0] if len(part_of) == 1 else None


def is_skip(text: str) -> bool:
    """True when the resident declines to answer an optional question ("skip", "no thanks", "omitir")."""
    said = normalise(text)
    words = vocabulary()
    return said in words.skip or said.startswith(words.skip_starts)


@lru_cache(maxsize=4)
def _durations(units: Tuple[str, ...], joiners: Tuple[str, ...]) -> Tuple[Pattern[str], Pattern[str]]:
    """Digits with an optional unit ("5", "5 days"), and a word before a unit ("two weeks", "un par de meses")."""
    unit = "|".join(sorted(units, key=len, reverse=True))
    joined = f"(?:(?:{'|'.join(joiners)})\\s+)?" if joiners else ""
    digits = re.compile(rf"(\d+(?:\.\d+)?)\s*(?:({unit})\b)?")
    worded = re.compile(rf"\b([a-z]+)\s+{joined}({unit})\b")
    return digits, worded


def parse_days(text: str) -> Optional[float]:
    """A duration in days from "3", "about 5 days", "two weeks", "a month", "dos semanas" or "since yesterday"."""
    said = normalise(text)
    words = vocabulary()
    digits, worded = _durations(tuple(words.day_units), words.unit_joiners)
    match = digits.search(said)
    if match:
        return float(match.group(1)) * (words.day_units[match.group(2)] if match.group(2) else 1)
    for match in worded.finditer(said):
        number = 1 if match.group(1) in words.articles else words.numbers.get(match.group(1))
        if number is not None:
            return float(number * words.day_units[match.group(2)])
    if any(contains_phrase(said, word) for word in words.yesterday):
        return 1.0
    return None


def parse_number(text: str) -> Optional[float]:
    """A plain number from "12", "about 7", "seven" or "siete"."""
    said = normalise(text)
    match = re.search(r"\d+(?:\.\d+)?", text)
    if match:
        return float(match.group(0))
    numbers = vocabulary().numbers
    for word in said.split():
        if word in numbers:
            return float(numbers[word])
    return None


def address_patterns() -> Tuple[Pattern[str], ...]:
    """A street address ("12 Elm St"), then an intersection in any city language's words; group 1 is the place."""
    return (_ADDRESS, _intersection(vocabulary().intersection_joiners))


def name_pattern() -> Pattern[str]:
    """A name as residents introduce it ("my name is Ana Ruiz", "me llamo Ana"); group 1 is the name."""
    return _name_intro(vocabulary().name_intros)


def find_address(text: str) -> Optional[str]:
    """A street address or intersection inside a sentence, as the resident wrote it."""
    for pattern in address_patterns():
        match = pattern.search(text)
        if match:
            return _leading_filler(vocabulary().address_fillers).sub("", match.group(1).strip(" .,"))
    return None


@dataclass
class ContactDetails:
    """Optional details a resident leaves so the city can follow up."""

    email: Optional[str] = None
    phone: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None

    def is_empty(self) -> bool:
        return not (self.email or self.phone or self.first_name)

    def as_open311(self) -> Dict[str, str]:
        """The GeoReport v2 contact fields that are set."""
        fields = {
            "email": self.email,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }
        return {k: v for k, v in fields.items() if v}

    def describe(self) -> Optional[str]:
        """A short readable form for the summary; None when there is none (an anonymous report)."""
        parts: List[str] = []
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        if name:
            parts.append(name)
        parts.extend(p for p in (self.email, self.phone) if p)
        return ", ".join(parts) if parts else None


def phone_e164(phone: str) -> Optional[str]:
    """A phone number as Twilio writes it ("+15550102233"), or None when it cannot be texted as written.

    A number with its "+" and country code keeps them; ten digits (or eleven
    after a 1) are the city's own North American numbers. A 7-digit local
    number or a stray extension is not guessed at.
    """
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 and digits[0] not in "01" else None


def parse_contact(text: str) -> ContactDetails:
    """Email, phone number and name found in a free-text reply."""
    details = ContactDetails()
    email = EMAIL.search(text)
    if email:
        details.email = email.group(0)
    rest = EMAIL.sub(" ", text)
    phone = PHONE.search(rest)
    if phone and len(re.sub(r"\D", "", phone.group(0))) >= 7:
        details.phone = phone.group(0).strip()
        rest = rest.replace(phone.group(0), " ")
    name_match = name_pattern().search(rest)
    candidate = name_match.group(1) if name_match else None
    if candidate is None:
        words = [w for w in re.split(r"[\s,;]+", rest.strip()) if w]
        if 1 <= len(words) <= 3 and all(_ONE_NAME.fullmatch(w) for w in words):
            if normalise(" ".join(words)) not in vocabulary().skip:
                candidate = " ".join(words[:2])
    if candidate and (details.email or details.phone or name_match or candidate[0].isupper()):
        parts = candidate.split()
        details.first_name = parts[0].capitalize()
        details.last_name = parts[1].capitalize() if len(parts) > 1 else None
    return details
