"""A job posting as the city publishes it, and whether it is still open.

Every figure comes from the feed: a field the feed leaves out stays None and
the answers say less, never a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from babel.dates import get_timezone

from bot.catalog import load_city

# schema.org's unitText values for a salary, as the feeds write them.
PAY_UNITS = ("HOUR", "DAY", "WEEK", "MONTH", "YEAR")


@dataclass(frozen=True)
class Pay:
    """A posting's pay: one amount (`minimum == maximum`) or a range, in a currency, per unit."""

    minimum: float
    maximum: float
    currency: str  # ISO 4217, "USD"
    unit: Optional[str]  # one of PAY_UNITS, or None when the feed does not say


@dataclass(frozen=True)
class Posting:
    """One open position, as read from the feed."""

    identifier: str  # the feed's own id (JobPosting.identifier, an RSS guid), else its link
    title: str
    department: Optional[str] = None
    employment_types: Tuple[str, ...] = ()  # schema.org employmentType: FULL_TIME, PART_TIME, INTERN...
    pay: Optional[Pay] = None
    location: Optional[str] = None  # street address and locality
    valid_through: Optional[str] = None  # as the feed writes it (ISO 8601; a bare date is the city's day)
    apply_url: Optional[str] = None
    date_posted: Optional[str] = None
    description: str = ""
    kinds: Tuple[str, ...] = field(default=())  # part_time, internship, seasonal, full_time (bot.jobs.kinds)

    def closes_at(self) -> Optional[dt.datetime]:
        """The moment the posting closes (a bare date or a time without offset: in the city's time zone)."""
        return city_moment(self.valid_through, end_of_day=True)

    def is_open(self, now: Optional[dt.datetime] = None) -> bool:
        """Still open at `now` (a posting without a closing date stays open while the feed lists it)."""
        closes = self.closes_at()
        return closes is None or (now or dt.datetime.now(dt.timezone.utc)) <= closes

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Posting":
        """The Posting `as_dict` gave (the stored copy of a feed)."""
        values = dict(raw)
        pay = values.get("pay")
        values["pay"] = Pay(**pay) if pay else None
        values["employment_types"] = tuple(values.get("employment_types") or ())
        values["kinds"] = tuple(values.get("kinds") or ())
        return cls(**values)


def city_timezone() -> dt.tzinfo:
    """The city's time zone, from the city file."""
    return get_timezone(load_city().timezone)


def city_moment(value: Optional[str], end_of_day: bool = False) -> Optional[dt.datetime]:
    """An ISO 8601 date or time from a feed as an aware moment; None when missing or unreadable.

    A bare date is that day in the city (its end with `end_of_day`: "closes December 18"
    means open all that day); a time without an offset is the city's local time.
    """
    text = (value or "").strip()
    if not text:
        return None
    zone = city_timezone()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        localize = getattr(zone, "localize", None)  # pytz zones need localize(); zoneinfo takes tzinfo=
        moment = localize(moment) if localize else moment.replace(tzinfo=zone)
    return moment


def open_postings(postings: Iterable[Posting], now: Optional[dt.datetime] = None) -> List[Posting]:
    """The postings still open at `now`: a closed one is never offered."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    return [posting for posting in postings if posting.is_open(moment)]
