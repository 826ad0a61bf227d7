"""Which departments a resident's words name, loosely, in English or Spanish, and their names to show.

The departments are the ones the postings name (`hiringOrganization.department`,
as the feed writes it). The city file adds other words for them (`jobs:
departments: <name>: aliases:`) and their names and words in its other
languages (`translations: <lang>: jobs: departments:`). A resident's words name
a department when they hold one of its names or aliases, or a telling word of
its name ("parks jobs": Parks and Recreation), plurals taken loosely.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Tuple

from bot.catalog import load_city
from bot.i18n.words import word_list
from bot.jobs.kinds import AREA
from bot.reports.vocabulary import normalise


def _section(language: str = "") -> Mapping[str, Any]:
    city = load_city()
    jobs = (city.translations.get(language) or {}).get("jobs") if language else city.jobs
    return (jobs or {}).get("departments") or {}


def department_name(department: str, language: str) -> str:
    """A department's name in `language` (the city file's translation), else as the feed writes it."""
    entry = _section(language).get(department) or {}
    return str(entry.get("name") or department)


def stem(word: str) -> str:
    """Plurals loosely: "parks" and "park", "parques" and "parque" are one."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def stems(text: str) -> Tuple[str, ...]:
    """A text's words, normalised and stemmed, in order."""
    return tuple(stem(word) for word in normalise(text).split())


@lru_cache(maxsize=1)
def fillers() -> frozenset:
    """Words of a department's name that do not tell which one it is ("and", "city", "de")."""
    return frozenset(stems(" ".join(word_list(AREA, "department_fillers"))))


def _phrases(department: str) -> Tuple[Tuple[str, ...], ...]:
    """Every name and alias of a department, in every language, as stemmed words."""
    written = [department, *[str(a) for a in (_section().get(department) or {}).get("aliases") or []]]
    for language in load_city().translations:
        entry = _section(language).get(department) or {}
        written.extend(str(word) for word in [entry.get("name"), *(entry.get("aliases") or [])] if word)
    return tuple(dict.fromkeys(found for found in (stems(text) for text in written) if found))


def contains(words: Tuple[str, ...], phrase: Tuple[str, ...]) -> bool:
    """Whether the stemmed words hold the stemmed phrase, word for word."""
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def _score(words: Tuple[str, ...], department: str) -> int:
    """How strongly the words name the department: a whole name or alias (twice its length in words)
    beats a telling word of a name (1); nothing is 0."""
    phrases = _phrases(department)
    whole = max((2 * len(phrase) for phrase in phrases if contains(words, phrase)), default=0)
    if whole:
        return whole
    telling = {word for phrase in phrases for word in phrase if word not in fillers() and len(word) > 2}
    return 1 if telling & set(words) else 0


def departments_in(words: str, departments: Iterable[str]) -> List[str]:
    """The departments (of `departments`) the resident's words name best; empty when none."""
    said = stems(words)
    scores: Dict[str, int] = {department: _score(said, department) for department in dict.fromkeys(departments)}
    best = max(scores.values(), default=0)
    return [department for department, score in scores.items() if best and score == best]
