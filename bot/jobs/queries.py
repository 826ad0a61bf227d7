"""What residents ask about city jobs, over the open postings: counts, a department, a kind, a keyword, one posting.

The functions over a list of postings are pure; `open_jobs()` gives that list
(the last good copy of the feed, closed postings left out, the soonest to close
first), so an action calls it once and asks it what the resident asked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.i18n.words import word_map
from bot.jobs.departments import contains, departments_in, fillers, stems
from bot.jobs.kinds import AREA, KINDS
from bot.jobs.postings import Posting, open_postings
from bot.jobs.source import current_feed
from bot.reports.vocabulary import normalise


@dataclass(frozen=True)
class OpenJobs:
    """The postings open now and where the city lists them all."""

    postings: Tuple[Posting, ...]
    careers_url: Optional[str]


@dataclass(frozen=True)
class DepartmentCount:
    """How many open postings a department has (`department` as the feed names it; "" for none named)."""

    department: str
    count: int


@dataclass(frozen=True)
class DepartmentPostings:
    """The departments a resident's words named and their open postings (both empty: none named)."""

    departments: Tuple[str, ...]
    postings: Tuple[Posting, ...]


def _closing_order(posting: Posting) -> Tuple[int, dt.datetime]:
    closes = posting.closes_at()
    return (0, closes) if closes is not None else (1, dt.datetime.max.replace(tzinfo=dt.timezone.utc))


async def open_jobs(now: Optional[dt.datetime] = None) -> OpenJobs:
    """The open postings (the soonest to close first) from the last good copy of the feed."""
    feed = await current_feed()
    return OpenJobs(tuple(sorted(open_postings(feed.postings, now), key=_closing_order)), feed.careers_url)


def openings_by_department(postings: Iterable[Posting]) -> List[DepartmentCount]:
    """Open postings per department, the most first (then by name): "is the city hiring?"."""
    counts = Counter(posting.department or "" for posting in postings)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [DepartmentCount(name, count) for name, count in ordered]


def departments_of(postings: Iterable[Posting]) -> List[str]:
    """The departments the postings name, once each, in order."""
    return list(dict.fromkeys(posting.department for posting in postings if posting.department))


def by_department(postings: Sequence[Posting], words: str) -> DepartmentPostings:
    """The postings of the department(s) the resident's words name ("parks", "biblioteca")."""
    named = departments_in(words, departments_of(postings))
    return DepartmentPostings(tuple(named), tuple(p for p in postings if p.department in named))


def in_department(postings: Iterable[Posting], department: str) -> List[Posting]:
    """The postings of one department, named exactly as the feed does (a job alert's department)."""
    return [posting for posting in postings if posting.department == department]


def by_kind(postings: Iterable[Posting], kind: str) -> List[Posting]:
    """The postings of a kind (bot.jobs.kinds.KINDS: part_time, internship, seasonal, full_time)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of job {kind!r}: one of {', '.join(KINDS)}")
    return [posting for posting in postings if kind in posting.kinds]


@lru_cache(maxsize=1)
def _keyword_groups() -> Dict[str, Tuple[Tuple[str, ...], ...]]:
    """Each keyword (English, as the postings are written) with its words in every city language, stemmed."""
    return {
        key: tuple(dict.fromkeys(found for found in (stems(w) for w in (key, *words)) if found))
        for key, words in word_map(AREA, "keywords").items()
    }


def keyword_terms(words: str) -> Tuple[Tuple[str, ...], ...]:
    """What to look for in the postings for a resident's keyword: the keyword and the words of its
    group ("chofer" -> driver, truck, cdl...), as stemmed phrases."""
    said = stems(words)
    terms = [said] if said else []
    for group in _keyword_groups().values():
        if any(contains(said, phrase) for phrase in group):
            terms.extend(group)
    return tuple(dict.fromkeys(terms))


def keywords_in(words: str) -> List[str]:
    """The resident's own words that are job keywords ("any chofer jobs?" -> ["chofer"]), in order, once each.

    What a keyword answer's heading shows and a keyword alert stores: the word as
    written (normalised), so it reads in the resident's language and still finds
    its group's postings ("chofer" finds the truck drivers).
    """
    groups = [phrase for group in _keyword_groups().values() for phrase in group]
    said = normalise(words).split()
    found: List[str] = []
    for size in (2, 1):
        for start in range(len(said) - size + 1):
            written = " ".join(said[start : start + size])
            if stems(written) in groups and not any(written in other for other in found):
                found.append(written)
    return sorted(dict.fromkeys(found), key=lambda word: normalise(words).find(word))


def _text_of(posting: Posting) -> Tuple[str, ...]:
    return stems(" ".join(filter(None, (posting.title, posting.department, posting.description))))


def with_keyword(postings: Iterable[Posting], words: str) -> List[Posting]:
    """The postings whose title, department or description has the resident's keyword ("driver", "library")."""
    terms = keyword_terms(words)
    return [posting for posting in postings if any(contains(_text_of(posting), term) for term in terms)]


def find_postings(postings: Iterable[Posting], words: str) -> List[Posting]:
    """The posting(s) the resident means ("the equipment operator posting", an id like "2026-0398").

    An identifier or a whole title wins; else the titles sharing the most telling
    words with theirs (several when tied, none when no title word is there).
    """
    postings = list(postings)
    wanted = words.strip().casefold()
    exact = [p for p in postings if wanted and wanted in (p.identifier.casefold(), p.title.casefold())]
    if exact:
        return exact
    said = set(stems(words))
    scores = {
        p.identifier: len({w for w in stems(p.title) if w not in fillers() and len(w) > 1} & said) for p in postings
    }
    best = max(scores.values(), default=0)
    return [p for p in postings if best and scores[p.identifier] == best]


def posting_by_id(postings: Iterable[Posting], identifier: str) -> Optional[Posting]:
    """The posting with this identifier (a button's payload), if still open."""
    return next((posting for posting in postings if posting.identifier == identifier), None)
