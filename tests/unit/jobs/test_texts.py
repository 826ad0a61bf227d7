"""Jobs answers in English and Spanish: pay with its unit, closing day in the city, three postings at most, SMS."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.alerts.segments import sms_segments
from bot.i18n.messages import messages
from bot.jobs.postings import Pay, Posting, open_postings
from bot.jobs.queries import by_department, by_kind, departments_of, find_postings, openings_by_department
from bot.jobs.source import read_feed
from bot.jobs.texts import (
    MAX_SHOWN,
    alert_text,
    closing_day,
    department_answer,
    details_answer,
    hiring_answer,
    keyword_answer,
    kind_answer,
    pay_text,
)

NOW = dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.timezone.utc)
CAREERS = "https://www.riverton.gov/jobs"
EN, ES = messages("en"), messages("es")


@pytest.fixture
async def postings():
    found = open_postings((await read_feed()).postings, NOW)
    return sorted(found, key=lambda p: p.closes_at())


@pytest.mark.parametrize(
    "pay, english, spanish",
    [
        (Pay(24.5, 24.5, "USD", "HOUR"), "$24.50 an hour", "$24.50 por hora"),
        (Pay(52000, 52000, "USD", "YEAR"), "$52,000 a year", "$52,000 al año"),
        (Pay(17.5, 19.0, "USD", "HOUR"), "$17.50 to $19.00 an hour", "de $17.50 a $19.00 por hora"),
        (Pay(48500, 61200, "USD", "YEAR"), "$48,500 to $61,200 a year", "de $48,500 a $61,200 al año"),
        (Pay(3000, 3000, "USD", None), "$3,000", "$3,000"),
    ],
)
def test_pay_with_its_unit(pay, english, spanish):
    assert pay_text(pay, EN) == english
    assert pay_text(pay, ES) == spanish


def test_pay_on_sms():
    assert pay_text(Pay(48500, 61200, "USD", "YEAR"), EN, compact=True) == "$48,500-$61,200/yr"
    assert pay_text(Pay(17.5, 19.0, "USD", "HOUR"), ES, compact=True) == "$17.50-$19.00/hora"


def test_the_closing_day_is_the_citys():
    # 03:00 UTC on the 19th is still Friday the 18th in Riverton
    posting = Posting("1", "Clerk", valid_through="2026-12-19T03:00:00Z")
    assert closing_day(posting, EN) == "Friday, December 18"
    assert closing_day(posting, ES) == "viernes, 18 de diciembre"
    assert closing_day(posting, EN, compact=True) == "Dec 18"
    assert closing_day(Posting("2", "Clerk"), EN) is None


def test_is_the_city_hiring(postings):
    text = hiring_answer(openings_by_department(postings), EN, CAREERS)
    assert text.startswith("The City of Riverton has 8 open jobs: Parks and Recreation (2), 311 Contact Center (1),")
    assert text.endswith(f"See all city jobs and apply: {CAREERS}")
    spanish = hiring_answer(openings_by_department(postings), ES, CAREERS)
    assert spanish.startswith("La Ciudad de Riverton tiene 8 empleos abiertos: Parques y Recreación (2),")
    assert hiring_answer([], EN, CAREERS).startswith("The City of Riverton has no open jobs listed right now.")


def test_one_department(postings):
    found = by_department(postings, "parques")
    answer = department_answer(found.departments, found.postings, departments_of(postings), ES, CAREERS)
    assert answer.text.splitlines()[:3] == [
        "Parques y Recreación tiene 2 empleos abiertos:",
        "- Seasonal Park Maintenance Worker: de $17.50 a $19.00 por hora, cierra el viernes, 18 de diciembre",
        "- Recreation Program Leader (part time): de $16.25 a $18.00 por hora, cierra el martes, 22 de diciembre",
    ]
    assert answer.more == 0 and answer.buttons(ES, "/more") == []
    unknown = department_answer((), (), departments_of(postings), EN, CAREERS)
    assert unknown.text.startswith(
        "I could not tell which department you mean. Hiring now: Public Works, Riverton Public"
    )


def test_at_most_three_postings_then_more(postings):
    full_time = by_kind(postings, "full_time")
    answer = kind_answer("full_time", full_time, EN, CAREERS)
    lines = answer.text.splitlines()
    assert lines[0] == "6 open full-time jobs:"
    assert lines[1] == "- Equipment Operator II (Public Works): $48,500 to $61,200 a year, closes Friday, December 11"
    assert len([line for line in lines if line.startswith("- ")]) == MAX_SHOWN
    assert lines[-2:] == ["And 3 more.", f"See all city jobs and apply: {CAREERS}"]
    assert answer.more == 3 and answer.buttons(EN, "/jobs_more") == [{"title": "More jobs", "payload": "/jobs_more"}]


@pytest.mark.parametrize("texts", [EN, ES], ids=["en", "es"])
def test_on_sms_a_list_fits_in_two_segments(postings, texts):
    answer = kind_answer("full_time", by_kind(postings, "full_time"), texts, CAREERS, compact=True)
    assert sms_segments(answer.text) <= 2
    assert len(answer.shown) >= 1 and answer.more == 6 - len(answer.shown)
    assert CAREERS in answer.text and "(Public Works)" not in answer.text


def test_nothing_found(postings):
    assert (
        kind_answer("internship", [], ES, CAREERS).text.splitlines()[0] == "No hay pasantías abiertas en este momento."
    )
    assert keyword_answer("astronaut", [], EN, CAREERS).text.splitlines()[0] == 'No open job has "astronaut" right now.'


def test_one_postings_details(postings):
    operator = find_postings(postings, "water plant operator")[0]
    assert details_answer(operator, EN, CAREERS).splitlines() == [
        "Water Treatment Plant Operator",
        "Department: Riverton Water Utility",
        "Type: full-time",
        "Pay: $55,000 to $72,400 a year",
        "Apply by: Friday, January 8",
        "Where: 12 Filter Plant Road, Riverton",
        "How to apply: https://www.riverton.gov/jobs/2026-0377",
    ]
    spanish = details_answer(operator, ES, CAREERS)
    assert "Sueldo: de $55,000 a $72,400 al año" in spanish and "viernes, 8 de enero" in spanish
    sms = details_answer(operator, EN, CAREERS, compact=True)
    assert sms == (
        "Water Treatment Plant Operator: $55,000-$72,400/yr, closes Jan 8. "
        "Apply: https://www.riverton.gov/jobs/2026-0377"
    )


def test_a_posting_without_pay_says_so():
    posting = Posting("X", "Bus Driver", department="Transit", apply_url="https://example.org/x")
    text = details_answer(posting, EN, CAREERS)
    assert "Pay: not listed in the posting" in text and "Apply by: no closing date listed" in text


def test_a_job_alert(postings):
    intern = find_postings(postings, "summer intern")[0]
    text = alert_text(intern, EN, CAREERS)
    assert text.startswith("New City of Riverton job: Summer Intern, City Planning (paid) (Planning and Development)")
    assert "$18 an hour" in text and text.endswith("To stop job alerts, send: stop job alerts")
    assert sms_segments(alert_text(intern, ES, CAREERS, compact=True)) <= 2
