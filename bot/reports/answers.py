"""Understand a resident's free-text answers to the report questions.

Residents answer "big one", "2", "12 elm st" or "skip, thanks" instead of the
exact wording of a button; these pure functions turn such text into values the
back office accepts, so every channel (buttons or not) gets the same behaviour.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

_WORD = re.compile(r"[a-z0-9#]+")

# Words residents use for a choice whose label says something else.
_SYNONYMS: Dict[str, Sequence[str]] = {
    "yes": ("yes", "yeah", "yep", "yup", "y", "sure", "correct", "it is", "right", "true", "ya", "yea"),
    "no": ("no", "nope", "nah", "n", "not", "false", "isnt", "wasnt"),
    "small": ("small", "little", "tiny", "minor"),
    "medium": ("medium", "mid", "moderate", "average", "tire"),
    "large": ("large", "big", "huge", "massive", "enormous", "giant", "deep"),
    "not sure": ("not sure", "unsure", "dont know", "no idea", "idk"),
}

_SKIP_PHRASES = (
    "skip",
    "no",
    "nope",
    "nah",
    "no thanks",
    "no thank you",
    "none",
    "n/a",
    "na",
    "anonymous",
    "anon",
    "stay anonymous",
    "dont know",
    "don't know",
    "idk",
    "not sure",
    "no idea",
    "i dont know",
    "i don't know",
    "pass",
    "rather not",
    "no contact",
    "prefer not",
    "no updates",
    "nothing",
)

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "few": 3,
    "several": 4,
    "fourteen": 14,
    "twenty": 20,
    "thirty": 30,
}
_UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30}

_STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|"
    r"parkway|pkwy|highway|hwy|terrace|ter|circle|cir|alley|square|sq|trail|trl"
)
_ADDRESS = re.compile(
    rf"\b(\d{{1,6}}[a-z]?\s+(?:[nsew]\.?\s+)?(?:[a-z0-9'.-]+\s+){{0,4}}(?:{_STREET_SUFFIX})\b\.?)",
    re.IGNORECASE,
)
_INTERSECTION = re.compile(
    rf"\b((?:[a-z0-9'.-]+\s+){{0,3}}(?:{_STREET_SUFFIX})\.?\s+(?:and|&|at|/)\s+"
    rf"(?:[a-z0-9'.-]+\s+){{0,3}}(?:{_STREET_SUFFIX})\b\.?)",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:(?:the|corner|of|near|at|on|by|outside|in|front|intersection|its|it's|is|no|yes)\s+)+",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+?\d[\s().-]*){7,15}")
_NAME_INTRO = re.compile(
    r"\b(?:my name is|name is|name's|i am|i'm|this is)\s+([a-z][a-z'-]+(?:\s+[a-z][a-z'-]+)?)",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Lower-case words and numbers only, single-spaced, apostrophes dropped."""
    return " ".join(_WORD.findall(text.lower().replace("'", "").replace("’", "")))


def _label(choice: str) -> str:
    """The short form of a choice: "large (bigger than a car tire)" -> "large"."""
    return normalise(choice.split("(")[0])


def _contains_phrase(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


def match_choice(text: str, choices: Sequence[str]) -> Optional[str]:
    """The one choice the text means, or None when it means none or several.

    Understands the number of the choice in the list ("2"), its exact wording, its
    short label, a known synonym ("big" for "large"), the label appearing inside
    a sentence ("it's in the bike lane"), and small typos.
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
    hits = [c for c, label in zip(choices, labels, strict=True) if label and _contains_phrase(said, label)]
    if len(hits) == 1:
        return hits[0]
    synonym_hits = [
        c
        for c, label in zip(choices, labels, strict=True)
        if any(_contains_phrase(said, normalise(s)) for s in _SYNONYMS.get(label, ()))
    ]
    if len(synonym_hits) == 1:
        return synonym_hits[0]
    close = difflib.get_close_matches(said, labels, n=2, cutoff=0.75)
    if len(close) == 1:
        return choices[labels.index(close[0])]
    return None


def is_skip(text: str) -> bool:
    """True when the resident declines to answer an optional question."""
    said = normalise(text)
    return said in {normalise(p) for p in _SKIP_PHRASES} or said.startswith("skip")


def parse_days(text: str) -> Optional[float]:
    """A duration in days from "3", "about 5 days", "two weeks" or "a month"."""
    said = normalise(text)
    match = re.search(r"(\d+(?:\.\d+)?)\s*(days?|weeks?|months?)?", said)
    if match:
        return float(match.group(1)) * _UNIT_DAYS.get(match.group(2) or "days", 1)
    for word, number in _NUMBER_WORDS.items():
        unit = re.search(rf"\b{word}\s+(days?|weeks?|months?)\b", said)
        if unit:
            return float(number * _UNIT_DAYS[unit.group(1)])
    if re.search(r"\b(since )?(yesterday)\b", said):
        return 1.0
    return None


def parse_number(text: str) -> Optional[float]:
    """A plain number from "12", "about 7" or "seven"."""
    said = normalise(text)
    match = re.search(r"\d+(?:\.\d+)?", text)
    if match:
        return float(match.group(0))
    for word in said.split():
        if word in _NUMBER_WORDS and word not in ("a", "an"):
            return float(_NUMBER_WORDS[word])
    return None


def find_address(text: str) -> Optional[str]:
    """A street address or intersection inside a sentence, as the resident wrote it."""
    for pattern in (_ADDRESS, _INTERSECTION):
        match = pattern.search(text)
        if match:
            return _LEADING_FILLER.sub("", match.group(1).strip(" .,"))
    return None


def looks_like_location(text: str) -> bool:
    """Whether a reply can serve as a location: an address, intersection or landmark."""
    said = normalise(text)
    if find_address(text):
        return True
    return len(said) >= 4 and any(ch.isalpha() for ch in said) and not is_skip(text)


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

    def describe(self) -> str:
        """A short readable form for the summary."""
        parts: List[str] = []
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        if name:
            parts.append(name)
        parts.extend(p for p in (self.email, self.phone) if p)
        return ", ".join(parts) if parts else "anonymous"


def parse_contact(text: str) -> ContactDetails:
    """Email, phone number and name found in a free-text reply."""
    details = ContactDetails()
    email = _EMAIL.search(text)
    if email:
        details.email = email.group(0)
    rest = _EMAIL.sub(" ", text)
    phone = _PHONE.search(rest)
    if phone and len(re.sub(r"\D", "", phone.group(0))) >= 7:
        details.phone = phone.group(0).strip()
        rest = rest.replace(phone.group(0), " ")
    name_match = _NAME_INTRO.search(rest)
    candidate = name_match.group(1) if name_match else None
    if candidate is None:
        words = [w for w in re.split(r"[\s,;]+", rest.strip()) if w]
        if 1 <= len(words) <= 3 and all(re.fullmatch(r"[A-Za-z][A-Za-z'-]*", w) for w in words):
            if normalise(" ".join(words)) not in {normalise(p) for p in _SKIP_PHRASES}:
                candidate = " ".join(words[:2])
    if candidate and (details.email or details.phone or name_match or candidate[0].isupper()):
        parts = candidate.split()
        details.first_name = parts[0].capitalize()
        details.last_name = parts[1].capitalize() if len(parts) > 1 else None
    return details
