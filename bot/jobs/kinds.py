"""Kinds of job residents ask for: part-time, internship, summer or seasonal, full-time.

A posting's kinds come from its schema.org employmentType and from words of its
title ("Recreation Program Leader (part time)"); a resident's from their words,
in any city language (bot/i18n/locales/<lang>/words/jobs.yml).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict, Iterable, List, Mapping, Tuple

from bot.i18n.words import word_map
from bot.reports.vocabulary import normalise

AREA = "jobs"  # the word files' name
PART_TIME, INTERNSHIP, SEASONAL, FULL_TIME = "part_time", "internship", "seasonal", "full_time"
KINDS: Tuple[str, ...] = (PART_TIME, INTERNSHIP, SEASONAL, FULL_TIME)

# schema.org employmentType values and the kind each one is.
EMPLOYMENT_TYPES: Mapping[str, str] = {
    "PART_TIME": PART_TIME,
    "INTERN": INTERNSHIP,
    "TEMPORARY": SEASONAL,
    "SEASONAL": SEASONAL,
    "FULL_TIME": FULL_TIME,
}


@lru_cache(maxsize=1)
def kind_words() -> Dict[str, Tuple[str, ...]]:
    """Each kind's words in every city language, normalised ("part-time" -> "part time")."""
    table = word_map(AREA, "kinds")
    return {kind: tuple(dict.fromkeys(normalise(word) for word in table.get(kind, ()))) for kind in KINDS}


def has_phrase(text: str, phrase: str) -> bool:
    """Whether normalised `text` holds normalised `phrase` as whole words."""
    return bool(phrase) and f" {phrase} " in f" {text} "


def kinds_in(words: str) -> List[str]:
    """The kinds a resident's words ask for ("any summer jobs?" -> seasonal), in KINDS order."""
    text = normalise(words)
    return [kind for kind, phrases in kind_words().items() if any(has_phrase(text, p) for p in phrases)]


def kinds_of(employment_types: Iterable[str], title: str) -> Tuple[str, ...]:
    """A posting's kinds, from its employmentType values and its title's words, in KINDS order."""
    found = {EMPLOYMENT_TYPES[value] for value in employment_types if value in EMPLOYMENT_TYPES}
    found.update(kinds_in(title))
    return tuple(kind for kind in KINDS if kind in found)
