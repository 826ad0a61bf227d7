"""Kinds of job in residents' words (English and Spanish) and in the postings' employmentType and titles."""

from __future__ import annotations

import pytest

from bot.jobs.kinds import kinds_in, kinds_of


@pytest.mark.parametrize(
    "words, kinds",
    [
        ("any part-time jobs?", ["part_time"]),
        ("part time work", ["part_time"]),
        ("trabajo de medio tiempo", ["part_time"]),
        ("internships for students", ["internship"]),
        ("hay pasantías?", ["internship"]),
        ("summer jobs", ["seasonal"]),
        ("empleos de verano", ["seasonal"]),
        ("full-time openings", ["full_time"]),
        ("tiempo completo", ["full_time"]),
        ("is the city hiring", []),
    ],
)
def test_what_residents_ask_for(words, kinds):
    assert kinds_in(words) == kinds


def test_a_postings_kinds_come_from_its_type_and_title():
    assert kinds_of(["TEMPORARY", "FULL_TIME"], "Seasonal Park Maintenance Worker") == ("seasonal", "full_time")
    assert kinds_of(["FULL_TIME"], "Recreation Program Leader (part time)") == ("part_time", "full_time")
    assert kinds_of(["INTERN"], "Summer Intern, City Planning (paid)") == ("internship", "seasonal")
    assert kinds_of(["VOLUNTEER"], "Clerk") == ()
