"""The jobs feed over real HTTP: read, changed, then down, erroring, malformed or without postings: the last good
copy stays, with one log line each time, and residents' answers never go empty."""

from __future__ import annotations

import json
import logging
from typing import AsyncIterator

import pytest

from bot.jobs.source import SHIPPED_FEED, current_feed, refresh
from tests.support.jobs import FeedSite, job_posting, shipped_document


@pytest.fixture
async def site(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FeedSite]:
    site = FeedSite()
    await site.start()
    monkeypatch.setenv("JOBS_FEED_URL", site.url)
    monkeypatch.setenv("JOBS_FEED_TIMEOUT", "0.5")
    yield site
    await site.stop()


def identifiers(feed) -> list:
    return [posting.identifier for posting in feed.postings]


async def test_the_citys_own_file_answers_before_any_read():
    feed = await current_feed()
    assert feed.fetched_at is None and len(feed.postings) == 9
    assert feed.careers_url == "https://www.riverton.gov/jobs"
    assert (await refresh()) is not None  # the worker reads the shipped file too
    assert len((await current_feed()).postings) == 9
    assert SHIPPED_FEED.name == "riverton_jobs.jsonld"


async def test_a_url_never_read_yet_gives_no_postings_and_the_careers_page(site: FeedSite):
    feed = await current_feed()
    assert feed.postings == () and feed.careers_url == "https://www.riverton.gov/jobs"


async def test_read_changed_then_broken_keeps_the_last_good_copy(site: FeedSite, caplog: pytest.LogCaptureFixture):
    document = shipped_document()
    site.serve(document)
    assert len((await refresh()).postings) == 9
    assert site.reads and "application/ld+json" in site.reads[0]
    first = await current_feed()
    assert len(first.postings) == 9 and first.fetched_at is not None

    document["itemListElement"].append(job_posting("2027-0101", "Bus Driver", "Transit"))
    site.serve(document)
    await refresh()
    good = identifiers(await current_feed())
    assert len(good) == 10 and good[-1] == "2027-0101"

    breakages = {
        "HTTP 503": lambda: setattr(site, "status", 503),
        "not JSON": lambda: site.serve(b'{"@type": "ItemList", "itemListElement": [{"@type": "JobPo'),
        "no job posting": lambda: site.serve(b"<html><body><h1>Careers</h1></body></html>", "text/html"),
        "empty": lambda: site.serve({"@type": "ItemList", "itemListElement": []}),
    }
    for reason, breakage in breakages.items():
        breakage()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.jobs.source"):
            assert await refresh() is None, reason
        assert len(caplog.records) == 1, reason
        assert "keeping the last good copy" in caplog.records[0].getMessage()
        assert identifiers(await current_feed()) == good, reason


async def test_a_feed_down_or_too_slow_keeps_the_last_good_copy(site: FeedSite, caplog: pytest.LogCaptureFixture):
    site.serve(shipped_document())
    await refresh()
    site.delay = 2.0  # JOBS_FEED_TIMEOUT is 0.5
    with caplog.at_level(logging.WARNING, logger="bot.jobs.source"):
        assert await refresh() is None
    assert "ReadTimeout" in caplog.text
    site.delay = 0
    await site.stop()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.jobs.source"):
        assert await refresh() is None
    assert len(caplog.records) == 1 and "ConnectError" in caplog.text
    assert len((await current_feed()).postings) == 9


async def test_a_careers_page_with_embedded_postings(site: FeedSite):
    posting = {"@context": "https://schema.org", **job_posting("2027-0200", "Crossing Guard", "Police Department")}
    page = f'<html><head><script type="application/ld+json">{json.dumps(posting)}</script></head></html>'
    site.serve(page, "text/html; charset=utf-8")
    await refresh()
    feed = await current_feed()
    assert identifiers(feed) == ["2027-0200"]
    assert feed.careers_url == site.url  # the page itself: the postings are listed there
