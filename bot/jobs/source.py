"""Where the city's job postings come from, reading them, and the last good copy kept.

JOBS_FEED_URL names the feed (http or https); unset, the city's own file shipped
in bot/city/ is read. The worker reads it every JOBS_REFRESH_SECONDS with a
timeout (JOBS_FEED_TIMEOUT) and stores each good read in the database
(`job_feeds`). A feed that is down, answers an error, is malformed or lists no
posting leaves the stored copy as it was, with one log line: residents keep
getting the last postings the city published, never an empty list instead.
Answers read the stored copy (`current_feed`), so they never wait on the feed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.catalog import load_city
from bot.db.engine import database, utcnow
from bot.db.schema import job_feeds
from bot.jobs.parse import Feed, FeedError, parse_feed
from bot.jobs.postings import Posting
from bot.settings import settings

logger = logging.getLogger(__name__)

SHIPPED_FEED = Path(__file__).resolve().parent.parent / "city" / "riverton_jobs.jsonld"
MAX_FEED_BYTES = 5 * 1024 * 1024  # a careers page is far smaller; a bigger answer is not one
ACCEPT = "application/ld+json, application/json;q=0.9, application/rss+xml, application/atom+xml, text/html;q=0.8"


@dataclass(frozen=True)
class JobsFeed:
    """The postings answers are given from: the last good read of the feed."""

    postings: Tuple[Posting, ...]
    careers_url: Optional[str]  # the feed's own careers page, else the city file's `jobs: careers_url:`
    fetched_at: Optional[dt.datetime]  # None: the shipped file, never stored yet


def feed_source() -> str:
    """The feed this process reads: JOBS_FEED_URL, else the shipped file's path."""
    return settings().jobs_feed_url or str(SHIPPED_FEED)


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def shown_source(source: str) -> str:
    """The source as logged: scheme, host and path (a query may hold a key)."""
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if _is_url(source) else Path(source).name


async def _download(url: str, client: httpx.AsyncClient) -> Tuple[bytes, Optional[str], str]:
    """The feed's body (capped), content type and final URL; raises httpx errors and FeedError."""
    async with client.stream("GET", url, headers={"Accept": ACCEPT}) as response:
        response.raise_for_status()
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise FeedError(f"feed larger than {MAX_FEED_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks), response.headers.get("content-type"), str(response.url)


async def read_feed(source: Optional[str] = None, client: Optional[httpx.AsyncClient] = None) -> Feed:
    """Read and parse the feed now; raises FeedError, httpx.HTTPError or OSError when it cannot."""
    source = source or feed_source()
    if not _is_url(source):
        body = await asyncio.to_thread(Path(source).read_bytes)
        return await asyncio.to_thread(parse_feed, body, None, None)
    if client is None:
        async with httpx.AsyncClient(timeout=settings().jobs_feed_timeout, follow_redirects=True) as own:
            body, content_type, final_url = await _download(source, own)
    else:
        body, content_type, final_url = await _download(source, client)
    return await asyncio.to_thread(parse_feed, body, content_type, final_url)


def _encoded(feed: Feed) -> Dict[str, Any]:
    return {
        "postings": json.dumps([posting.as_dict() for posting in feed.postings], ensure_ascii=False),
        "careers_url": (feed.careers_url or "")[:512] or None,
        "fetched_at": utcnow(),
    }


def store_feed(connection: Connection, source: str, feed: Feed) -> bool:
    """Keep `feed` as the last good copy of `source`; True when it is the source's first."""
    values = _encoded(feed)
    updated = connection.execute(job_feeds.update().where(job_feeds.c.source == source).values(**values))
    if updated.rowcount:
        return False
    connection.execute(job_feeds.insert().values(source=source, **values))
    return True


# Run in the transaction that stores a good read: (connection, the feed, whether it is the source's first).
OnStored = Callable[[Connection, Feed, bool], Any]


async def refresh(client: Optional[httpx.AsyncClient] = None, then: Optional[OnStored] = None) -> Optional[Feed]:
    """Read the feed and keep it as the last good copy; None (one log line) when it cannot be read.

    What was stored before stays whenever the read fails, so a feed that is down or
    malformed never takes the postings away. `then` runs in the same transaction as
    the store (the job alerts' new postings), so neither happens without the other.
    """
    source = feed_source()
    try:
        feed = await read_feed(source, client)
    except (FeedError, httpx.HTTPError, OSError) as error:
        reason = f"HTTP {error.response.status_code}" if isinstance(error, httpx.HTTPStatusError) else error
        logger.warning("jobs feed %s unreadable, keeping the last good copy: %s", shown_source(source), _short(reason))
        return None

    def store(connection: Connection) -> None:
        first = store_feed(connection, source, feed)
        if then is not None:
            then(connection, feed, first)

    await database().run(store)
    return feed


def _short(reason: object) -> str:
    text = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
    return text[:200]


def stored_feed(connection: Connection, source: str) -> Optional[JobsFeed]:
    """The last good copy of `source`, if it was ever read."""
    row = connection.execute(sa.select(job_feeds).where(job_feeds.c.source == source)).first()
    if row is None:
        return None
    postings = tuple(Posting.from_dict(raw) for raw in json.loads(row.postings))
    return JobsFeed(postings, row.careers_url or careers_url_of_city(), row.fetched_at)


def careers_url_of_city() -> Optional[str]:
    """The careers page the city file names (`jobs: careers_url:`), if any."""
    value = (load_city().jobs or {}).get("careers_url")
    return str(value) if value else None


async def current_feed() -> JobsFeed:
    """The postings to answer from: the stored copy, else (never read yet) the city's shipped file.

    With JOBS_FEED_URL set and no good read yet, there is nothing to answer from: no postings,
    and the city's careers page for residents to look at.
    """
    source = feed_source()
    stored = await database().run(lambda connection: stored_feed(connection, source))
    if stored is not None:
        return stored
    if _is_url(source):
        return JobsFeed((), careers_url_of_city(), None)
    feed = await read_feed(source)
    return JobsFeed(feed.postings, feed.careers_url or careers_url_of_city(), None)
