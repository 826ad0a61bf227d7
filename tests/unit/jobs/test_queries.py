"""Questions over the shipped postings: counts, a department, a kind, a keyword, one posting; never a closed one."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.jobs.postings import Posting, open_postings
from bot.jobs.queries import (
    DepartmentCount,
    by_department,
    by_kind,
    find_postings,
    open_jobs,
    openings_by_department,
    posting_by_id,
    with_keyword,
)
from bot.jobs.source import read_feed

NOW = dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.timezone.utc)
CLOSED = "2026-0360"  # GIS Analyst, closed November 30


@pytest.fixture
async def postings():
    return open_postings((await read_feed()).postings, NOW)


def titles(postings):
    return [posting.title for posting in postings]


async def test_the_closed_posting_is_never_offered(postings):
    jobs = await open_jobs(NOW)
    assert CLOSED not in [p.identifier for p in jobs.postings]
    assert len(jobs.postings) == 8 and jobs.careers_url == "https://www.riverton.gov/jobs"
    assert jobs.postings[0].identifier == "2026-0398"  # the soonest to close first (December 11)
    assert with_keyword(jobs.postings, "GIS") == [] and find_postings(jobs.postings, "GIS analyst") == []
    assert posting_by_id(jobs.postings, CLOSED) is None
    assert "Information Technology" not in [c.department for c in openings_by_department(jobs.postings)]


def test_open_count_by_department(postings):
    counts = openings_by_department(postings)
    assert counts[0] == DepartmentCount("Parks and Recreation", 2)
    assert sum(c.count for c in counts) == 8 and len(counts) == 7


def test_by_department_in_english_and_spanish(postings):
    parks = ["Seasonal Park Maintenance Worker", "Recreation Program Leader (part time)"]
    assert titles(by_department(postings, "parks jobs").postings) == parks
    found = by_department(postings, "empleos en parques")
    assert found.departments == ("Parks and Recreation",) and titles(found.postings) == parks
    assert by_department(postings, "the zoo").postings == ()


def test_by_kind(postings):
    assert titles(by_kind(postings, "part_time")) == ["Recreation Program Leader (part time)"]
    assert titles(by_kind(postings, "internship")) == ["Summer Intern, City Planning (paid)"]
    assert titles(by_kind(postings, "seasonal")) == [
        "Seasonal Park Maintenance Worker",
        "Summer Intern, City Planning (paid)",
    ]
    assert len(by_kind(postings, "full_time")) == 6
    with pytest.raises(ValueError):
        by_kind(postings, "remote")


@pytest.mark.parametrize(
    "keyword, found",
    [
        ("driver", ["Equipment Operator II"]),  # "Commercial driver's license" in its description
        ("chofer", ["Equipment Operator II"]),
        ("library", ["Librarian I, Youth Services"]),
        ("biblioteca", ["Librarian I, Youth Services"]),
        ("astronaut", []),
    ],
)
def test_by_keyword(postings, keyword, found):
    assert titles(with_keyword(postings, keyword)) == found


@pytest.mark.parametrize(
    "words, found",
    [
        ("how much does the water plant operator job pay?", ["Water Treatment Plant Operator"]),
        ("when does the equipment operator posting close?", ["Equipment Operator II"]),
        ("2026-0402", ["Librarian I, Youth Services"]),
        ("nothing like it", []),
    ],
)
def test_one_posting(postings, words, found):
    assert titles(find_postings(postings, words)) == found


def test_a_posting_by_its_identifier(postings):
    assert posting_by_id(postings, "2026-0377").title == "Water Treatment Plant Operator"
    assert isinstance(posting_by_id(postings, "2026-0377"), Posting)
