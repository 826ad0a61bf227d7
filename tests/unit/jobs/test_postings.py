"""When a posting closes: validThrough as an absolute moment, or the city's day and time when the feed gives less."""

from __future__ import annotations

import datetime as dt

from bot.jobs.postings import Pay, Posting, city_moment, open_postings

UTC = dt.timezone.utc


def test_a_posting_is_open_until_its_valid_through_and_closed_after():
    posting = Posting("1", "Clerk", valid_through="2026-12-18T23:59:00-06:00")
    assert posting.is_open(dt.datetime(2026, 12, 19, 5, 58, tzinfo=UTC))  # 11:58 PM in Riverton
    assert not posting.is_open(dt.datetime(2026, 12, 19, 6, 0, tzinfo=UTC))


def test_a_bare_date_is_the_whole_day_in_the_city():
    posting = Posting("1", "Clerk", valid_through="2026-12-18")
    # 11 PM on the 18th in Riverton (America/Chicago) is already the 19th in UTC: still open
    assert posting.is_open(dt.datetime(2026, 12, 19, 5, 0, tzinfo=UTC))
    assert not posting.is_open(dt.datetime(2026, 12, 19, 6, 1, tzinfo=UTC))


def test_a_time_without_offset_is_the_city_time():
    assert city_moment("2026-12-18T17:00:00") == dt.datetime(2026, 12, 18, 23, 0, tzinfo=UTC)


def test_no_or_unreadable_closing_date_stays_open_while_listed():
    assert Posting("1", "Clerk").is_open()
    assert Posting("1", "Clerk", valid_through="soon").closes_at() is None


def test_closed_postings_are_left_out():
    postings = [Posting("a", "Open", valid_through="2026-12-31"), Posting("b", "Closed", valid_through="2026-11-30")]
    assert [p.identifier for p in open_postings(postings, dt.datetime(2026, 12, 6, tzinfo=UTC))] == ["a"]


def test_a_posting_survives_its_stored_form():
    posting = Posting(
        "2026-0398",
        "Equipment Operator II",
        department="Public Works",
        employment_types=("FULL_TIME",),
        pay=Pay(48500.0, 61200.0, "USD", "YEAR"),
        kinds=("full_time",),
    )
    assert Posting.from_dict(posting.as_dict()) == posting
