"""The dashboard's date range: the city's days, both included, with a clear refusal for what cannot be used."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.dashboard.period import MAX_DAYS, Period, PeriodError, parse_period

ZONE = ZoneInfo("America/Chicago")
TODAY = date(2026, 3, 10)


def period(**fields: str) -> Period:
    return parse_period(fields, ZONE, TODAY)


def test_the_days_asked_are_the_citys_whole_days() -> None:
    asked = period(**{"from": "2026-03-02", "to": "2026-03-04"})
    assert asked.start == datetime(2026, 3, 2, tzinfo=ZONE) and asked.end == datetime(2026, 3, 5, tzinfo=ZONE)
    assert asked.start_utc == datetime(2026, 3, 2, 6, tzinfo=timezone.utc)  # UTC-6 in Riverton in early March
    assert asked.days == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert asked.covers(datetime(2026, 3, 4, 23, 59, tzinfo=ZONE)) and not asked.covers(asked.end)
    assert asked.day_of(datetime(2026, 3, 5, 4, 30, tzinfo=ZoneInfo("UTC"))) == date(2026, 3, 4)


def test_without_dates_the_last_seven_days_up_to_today() -> None:
    assert (period().first, period().last) == (TODAY - timedelta(days=6), TODAY)
    assert (period(to="2026-01-31").first, period(to="2026-01-31").last) == (date(2026, 1, 25), date(2026, 1, 31))
    only_from = period(**{"from": "2026-03-08"})
    assert (only_from.first, only_from.last) == (date(2026, 3, 8), TODAY)
    assert period(**{"from": "2026-04-01"}).last == date(2026, 4, 1)  # a day to come: that day alone


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"from": "02/03/2026"}, "From must be a date written like"),
        ({"to": "tomorrow"}, "To must be a date written like"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "after the 'to' date"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, f"at most {MAX_DAYS} days"),
    ],
)
def test_a_range_that_cannot_be_used_says_what_to_change(fields: dict, problem: str) -> None:
    with pytest.raises(PeriodError, match=problem):
        period(**fields)
