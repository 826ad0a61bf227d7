"""The words residents use, per language, for what the code reads in their messages.

Each language has YAML files in `locales/<lang>/words/<area>.yml`, each a map of
list names to words ("yes": [yes, yeah, yep]). A resident may answer in any of the
city's languages whatever language they read ("si" from an English reader, "ok"
from a Spanish one), so `word_list` gives the words of every city language
together; `words_of` gives one language's, where the language itself is the
question (bot/i18n/choice.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Tuple

import yaml

from bot.i18n.languages import city_languages
from bot.i18n.messages import LOCALES


@lru_cache(maxsize=64)
def _area(language: str, area: str) -> Dict[str, Any]:
    """One language's word file for `area`, as written (empty when the language has none)."""
    path = LOCALES / language / "words" / f"{area}.yml"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return {_word(name): value for name, value in raw.items()}


def _word(value: Any) -> str:
    """YAML reads a bare yes/no as a boolean; a word list means the word."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _words(value: Any) -> Tuple[str, ...]:
    return tuple(_word(word) for word in value) if isinstance(value, list) else ()


def words_of(language: str, area: str, name: str) -> Tuple[str, ...]:
    """One language's words of list `name` in `area` (empty when it has none)."""
    return _words(_area(language, area).get(name))


def word_list(area: str, name: str) -> Tuple[str, ...]:
    """The words of list `name` in every city language, the default language's first, without repeats."""
    found: List[str] = []
    for language in city_languages():
        found.extend(words_of(language, area, name))
    return tuple(dict.fromkeys(found))


def word_map(area: str, name: str) -> Dict[str, Tuple[str, ...]]:
    """A list of lists keyed by a language-neutral name, merged over every city language.

    For lists written as maps (`sizes: {large: [big, huge], small: [...]}`): the
    words of each key in every language together.
    """
    merged: Dict[str, List[str]] = {}
    for language in city_languages():
        raw = _area(language, area).get(name)
        for key, words in raw.items() if isinstance(raw, dict) else ():
            merged.setdefault(_word(key), []).extend(_words(words))
    return {key: tuple(dict.fromkeys(words)) for key, words in merged.items()}
