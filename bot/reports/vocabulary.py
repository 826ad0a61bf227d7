"""The words the report form reads in residents' answers, every city language's at once.

They live in `bot/i18n/locales/<lang>/words/reports.yml` (yes and no, skip,
numbers and units of time, the names of a report's parts...). A resident may
answer "sí" or "ok" whatever language they read, so each list here holds the
words of every city language together. Words are compared the way `normalise`
writes them: lower case, without accents or punctuation ("Sí." and "si" are one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, Tuple

from bot.i18n.languages import city_languages
from bot.i18n.words import word_list, word_map

AREA = "reports"
_WORD = re.compile(r"[a-z0-9#]+")


def fold(text: str) -> str:
    """Lower case without accents: "Dirección" -> "direccion" (same length for composed letters)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Lower-case words and numbers only, single-spaced, accents and apostrophes dropped."""
    return " ".join(_WORD.findall(fold(text).replace("'", "").replace("’", "")))


@dataclass(frozen=True)
class Vocabulary:
    """Every word list of the report form, normalised, except the raw ones marked so (used in patterns)."""

    choice_synonyms: Dict[str, Tuple[str, ...]]  # a choice's short label -> words that mean it
    skip: FrozenSet[str]
    skip_starts: Tuple[str, ...]
    numbers: Dict[str, int]  # "two" -> 2
    articles: FrozenSet[str]  # "a", "una": one, only before a unit
    unit_joiners: Tuple[str, ...]  # "of" in "a couple of weeks"
    day_units: Dict[str, int]  # "weeks" -> 7
    yesterday: Tuple[str, ...]
    address_fillers: Tuple[str, ...]  # raw
    intersection_joiners: Tuple[str, ...]  # raw
    not_street_names: FrozenSet[str]  # "my" in "my street"
    street_prefixes: Tuple[str, ...]  # raw: "calle" in "calle Elm"
    name_intros: Tuple[str, ...]  # raw
    choice_joiners: Tuple[str, ...]  # raw
    confirm_yes: FrozenSet[str]
    confirm_no: FrozenSet[str]
    fields: Dict[str, Tuple[str, ...]]  # a report slot -> words naming it
    follow: Tuple[str, ...]
    file_anyway: Tuple[str, ...]
    question_starts: Tuple[str, ...]  # raw, lower case: a free-text answer starting so reads as a question
    my_answer: FrozenSet[str]  # "it's the description"
    a_question: FrozenSet[str]  # "it's a question"


def _normalised(words: Tuple[str, ...]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(said for said in (normalise(word) for word in words) if said))


def _by_word(lists: Dict[str, Tuple[str, ...]]) -> Dict[str, int]:
    """`{"2": ("two", "dos")}` -> `{"two": 2, "dos": 2}`."""
    return {word: int(number) for number, words in lists.items() for word in _normalised(words)}


def _raw(name: str) -> Tuple[str, ...]:
    """A list as written, with each word's unaccented spelling too (residents type both)."""
    return tuple(dict.fromkeys(form for word in word_list(AREA, name) for form in (word.lower(), fold(word))))


@lru_cache(maxsize=4)
def _vocabulary(languages: Tuple[str, ...]) -> Vocabulary:
    def words(name: str) -> Tuple[str, ...]:
        return _normalised(word_list(AREA, name))

    def lists(name: str) -> Dict[str, Tuple[str, ...]]:
        return {key: _normalised(found) for key, found in word_map(AREA, name).items()}

    return Vocabulary(
        choice_synonyms={normalise(label): found for label, found in lists("choice_synonyms").items()},
        skip=frozenset(words("skip")),
        skip_starts=words("skip_starts"),
        numbers=_by_word(word_map(AREA, "numbers")),
        articles=frozenset(words("articles")),
        unit_joiners=words("unit_joiners"),
        day_units=_by_word(word_map(AREA, "day_units")),
        yesterday=words("yesterday"),
        address_fillers=_raw("address_fillers"),
        intersection_joiners=_raw("intersection_joiners"),
        not_street_names=frozenset(words("not_street_names")),
        street_prefixes=_raw("street_prefixes"),
        name_intros=_raw("name_intros"),
        choice_joiners=_raw("choice_joiners"),
        confirm_yes=frozenset(words("confirm_yes")),
        confirm_no=frozenset(words("confirm_no")),
        fields=lists("fields"),
        follow=words("follow"),
        file_anyway=words("file_anyway"),
        question_starts=tuple(dict.fromkeys(word.lower() for word in word_list(AREA, "question_starts"))),
        my_answer=frozenset(words("my_answer")),
        a_question=frozenset(words("a_question")),
    )


def vocabulary() -> Vocabulary:
    """The report form's words in every language the city speaks (read once per set of languages)."""
    return _vocabulary(city_languages())


def contains_phrase(said: str, phrase: str) -> bool:
    """Whether normalised text `said` holds `phrase` as whole words."""
    return f" {phrase} " in f" {said} "
