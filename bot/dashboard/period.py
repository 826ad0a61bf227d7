"""The dashboard's date range: whole days in the city's time zone, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import List, Mapping, Optional
from zoneinfo import ZoneInfo

from bot.handoff.search import SearchError, parse_day

DEFAULT_DAYS = 7  # without dates: the week up to today
MAX_DAYS = 366  # a year at most: the figures are read from every event of the range


class PeriodError(ValueError):
    """A date range that cannot be used; the message tells staff what to change."""


@dataclass(frozen=True)
class Period:
    """From the first moment of `first` to the first moment after `last`, in `zone`."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)

    @property
    def start_utc(self) -> datetime:
        """`start` in UTC: the assistant's database stores UTC times (SQLite compares them as text)."""
        return self.start.astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(timezone.utc)

    @property
    def days(self) -> List[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, moment: datetime) -> date:
        """The city's day of a moment."""
        return moment.astimezone(self.zone).date()

    def covers(self, moment: Optional[datetime]) -> bool:
        return moment is not None and self.start <= moment < self.end


def parse_period(args: Mapping[str, str], zone: ZoneInfo, today: date) -> Period:
    """The range in a form's `from` and `to` (YYYY-MM-DD); a missing end: the last DEFAULT_DAYS days up to today."""
    try:
        first = parse_day((args.get("from") or "").strip(), "From")
        last = parse_day((args.get("to") or "").strip(), "To")
    except SearchError as error:
        raise PeriodError(str(error)) from None
    last = last or (today if first is None or first <= today else first)
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise PeriodError("The 'from' date is after the 'to' date.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"Choose at most {MAX_DAYS} days.")
    return Period(first, last, zone)
