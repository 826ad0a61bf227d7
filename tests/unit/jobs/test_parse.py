"""A jobs feed's formats: the city's JSON-LD ItemList, a careers page embedding JSON-LD, RSS; and what is not one."""

from __future__ import annotations

import json

import pytest

from bot.jobs.parse import FeedError, parse_feed
from bot.jobs.postings import Pay
from bot.jobs.source import SHIPPED_FEED
from tests.support.jobs import job_posting

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>City of Riverton jobs</title><link>https://www.riverton.gov/jobs</link>
  <item>
    <title>Bus Driver (part time)</title><link>https://www.riverton.gov/jobs/2027-0010</link>
    <guid>2027-0010</guid><category>Transit</category>
    <description>Drive city buses on weekday routes.</description>
    <pubDate>Mon, 07 Dec 2026 09:00:00 -0600</pubDate>
  </item>
  <item>
    <title>Lifeguard, summer</title><link>https://www.riverton.gov/jobs/2027-0011</link>
    <guid>2027-0011</guid><category>Parks and Recreation</category>
  </item>
</channel></rss>"""


def careers_page(*documents: object) -> bytes:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(d)}</script>' for d in documents)
    return f"<!DOCTYPE html><html><head><title>Jobs</title>{scripts}</head><body><h1>Jobs</h1></body></html>".encode()


def test_the_city_file_gives_every_posting_with_its_fields():
    feed = parse_feed(SHIPPED_FEED.read_bytes(), "application/ld+json")
    assert feed.careers_url == "https://www.riverton.gov/jobs"
    assert len(feed.postings) == 9
    operator = next(p for p in feed.postings if p.identifier == "2026-0398")
    assert operator.title == "Equipment Operator II"
    assert operator.department == "Public Works"
    assert operator.employment_types == ("FULL_TIME",)
    assert operator.pay == Pay(48500.0, 61200.0, "USD", "YEAR")
    assert operator.location == "900 Industrial Parkway, Riverton"
    assert operator.valid_through == "2026-12-11T23:59:00-06:00"
    assert operator.apply_url == "https://www.riverton.gov/jobs/2026-0398"
    assert operator.date_posted == "2026-11-12"
    intern = next(p for p in feed.postings if p.identifier == "2027-0003")
    assert intern.pay == Pay(18.0, 18.0, "USD", "HOUR")  # one amount, not a range
    assert intern.kinds == ("internship", "seasonal")  # INTERN, and "Summer" in the title


def test_a_careers_page_with_json_ld_embedded_is_read_with_extruct():
    page = careers_page(
        {"@context": "https://schema.org", "@type": "WebPage", "name": "Careers"},
        {"@context": "https://schema.org", **job_posting("2027-0020", "Crossing Guard", "Police Department")},
    )
    feed = parse_feed(page, "text/html; charset=utf-8", "https://www.riverton.gov/careers")
    assert [(p.identifier, p.title, p.department) for p in feed.postings] == [
        ("2027-0020", "Crossing Guard", "Police Department")
    ]
    assert feed.careers_url == "https://www.riverton.gov/careers"  # the page itself


def test_an_rss_feed_is_read_with_feedparser_and_invents_no_pay():
    feed = parse_feed(RSS, "application/rss+xml")
    driver, lifeguard = feed.postings
    assert (driver.identifier, driver.title, driver.department) == ("2027-0010", "Bus Driver (part time)", "Transit")
    assert driver.apply_url == "https://www.riverton.gov/jobs/2027-0010"
    assert driver.date_posted == "2026-12-07"
    assert driver.kinds == ("part_time",)
    assert driver.pay is None and driver.valid_through is None  # the feed does not say: nothing made up
    assert lifeguard.kinds == ("seasonal",)
    assert feed.careers_url == "https://www.riverton.gov/jobs"


def test_the_format_is_found_without_a_content_type():
    assert len(parse_feed(SHIPPED_FEED.read_bytes()).postings) == 9
    assert len(parse_feed(RSS).postings) == 2
    assert len(parse_feed(careers_page(job_posting("1", "Clerk", "City Clerk"))).postings) == 1


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"@type": "ItemList", "itemListElement": [', "application/json"),  # cut short
        (b"<html><body><h1>Careers</h1><p>No postings here.</p></body></html>", "text/html"),  # no JSON-LD
        (careers_page({"@type": "WebPage", "name": "Careers"}), "text/html"),  # JSON-LD, but no posting
        (b'{"@type": "ItemList", "itemListElement": []}', "application/ld+json"),  # nothing listed
        (b"<rss version='2.0'><channel><title>x</title></channel></rss>", "application/rss+xml"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),  # nested deeper than the parser goes
    ],
)
def test_what_is_not_a_feed_of_postings_is_an_error(body: bytes, content_type: str):
    with pytest.raises(FeedError):
        parse_feed(body, content_type)


def test_a_salary_or_location_in_another_shape_is_read_or_left_out():
    odd = job_posting(
        "X-1",
        "Crossing Guard",
        "Police Department",
        baseSalary={"@type": "MonetaryAmount", "currency": "usd", "value": "21.75"},
        jobLocation=[{"@type": "Place", "address": "150 Court Street, Riverton"}],
        employmentType=["part-time"],
    )
    no_currency = job_posting("X-2", "Clerk", "City Clerk", baseSalary={"value": {"minValue": 40000}})
    first, second = parse_feed(json.dumps([odd, no_currency]).encode()).postings
    assert first.pay == Pay(21.75, 21.75, "USD", None)
    assert first.location == "150 Court Street, Riverton"
    assert first.kinds == ("part_time",)
    assert second.pay is None
