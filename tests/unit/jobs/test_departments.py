"""Departments named loosely in English and Spanish, with the city file's other names for them."""

from __future__ import annotations

import pytest

from bot.jobs.departments import department_name, departments_in

DEPARTMENTS = [
    "Parks and Recreation",
    "Public Works",
    "Riverton Water Utility",
    "311 Contact Center",
    "Riverton Public Library",
    "Planning and Development",
    "Police Department",
]


@pytest.mark.parametrize(
    "words, named",
    [
        ("any jobs in the parks department?", ["Parks and Recreation"]),
        ("park jobs", ["Parks and Recreation"]),
        ("trabajos en parques", ["Parks and Recreation"]),
        ("recreación", ["Parks and Recreation"]),
        ("library", ["Riverton Public Library"]),
        ("la biblioteca", ["Riverton Public Library"]),
        ("water plant", ["Riverton Water Utility"]),
        ("policia", ["Police Department"]),
        ("obras publicas", ["Public Works"]),
        ("planeación", ["Planning and Development"]),
        ("the city", []),
        ("department", []),
    ],
)
def test_words_name_departments(words, named):
    assert departments_in(words, DEPARTMENTS) == named


def test_only_departments_with_postings_can_be_named():
    assert departments_in("parks", ["Public Works"]) == []


def test_a_department_is_shown_in_the_residents_language():
    assert department_name("Parks and Recreation", "es") == "Parques y Recreación"
    assert department_name("Parks and Recreation", "en") == "Parks and Recreation"
    assert department_name("Transit", "es") == "Transit"  # no translation: as the feed writes it
