"""A jobs feed's bytes into Postings: JobPosting JSON-LD (a document or a careers page) or RSS/Atom.

Cities publish their openings the way job search engines read them: schema.org
`JobPosting` JSON-LD, as a document of its own (often an `ItemList` of postings)
or embedded in the careers page (read with extruct), or as an RSS/Atom feed
(read with feedparser). A feed that gives no posting at all is an error here:
the caller keeps its last good copy rather than tell residents nobody is hiring.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple

import extruct
import feedparser

from bot.jobs.kinds import kinds_of
from bot.jobs.postings import PAY_UNITS, Pay, Posting

JSON_TYPES = ("application/ld+json", "application/json", "text/json")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_TAG = re.compile(r"<[^>]+>")


class FeedError(Exception):
    """The feed could not be read as job postings (malformed, or no posting in it)."""


@dataclass(frozen=True)
class Feed:
    """What one read of the feed gave: its postings and the careers page it names, if any."""

    postings: Tuple[Posting, ...]
    careers_url: Optional[str] = None


def parse_feed(body: bytes, content_type: Optional[str] = None, base_url: Optional[str] = None) -> Feed:
    """The postings in a feed; the format from its content type, else from its first bytes.

    Raises FeedError when it is malformed or holds no posting. CPU-bound (lxml,
    feedparser): call it off the event loop.
    """
    kind = (content_type or "").split(";")[0].strip().lower()
    start = body.lstrip()[:512].lower()
    try:
        if kind in JSON_TYPES or (kind not in FEED_TYPES + HTML_TYPES and start[:1] in (b"{", b"[")):
            feed = _from_json_ld(body)
        elif kind in HTML_TYPES or b"<html" in start or b"<!doctype html" in start:
            feed = _from_html(body, base_url)
        else:
            feed = _from_rss(body)
    except FeedError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as error:  # a shape nobody expected
        raise FeedError(f"unexpected feed content: {type(error).__name__}") from None
    if not feed.postings:
        raise FeedError("no job posting in the feed")
    return feed


# --- JSON-LD -----------------------------------------------------------------------------


def _from_json_ld(body: bytes) -> Feed:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise FeedError(f"not JSON: {type(error).__name__}") from None
    return _from_documents([document])


def _from_html(body: bytes, base_url: Optional[str]) -> Feed:
    try:
        found = extruct.extract(body, base_url=base_url, syntaxes=["json-ld"], errors="ignore")
    except Exception as error:  # lxml's and extruct's own errors: an unreadable page
        raise FeedError(f"not a readable page: {type(error).__name__}") from None
    feed = _from_documents(found.get("json-ld") or [])
    return feed if feed.careers_url else Feed(feed.postings, base_url)


def _from_documents(documents: List[Any]) -> Feed:
    postings: List[Posting] = []
    careers_url: Optional[str] = None
    for document in documents:
        for node in _nodes(document):
            if _is_type(node, "JobPosting"):
                posting = _posting(node)
                if posting is not None:
                    postings.append(posting)
            elif _is_type(node, "ItemList") and careers_url is None:
                careers_url = _text(node.get("url"))
    return Feed(_unique(postings), careers_url)


def _nodes(value: Any) -> Iterator[dict]:
    """Every object of a JSON-LD document, nested ones included (@graph, ItemList, ListItem.item)."""
    if isinstance(value, dict):
        yield value
        for key in ("@graph", "itemListElement", "item"):
            if key in value:
                yield from _nodes(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _is_type(node: dict, name: str) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1] == name for t in names)


def _text(value: Any) -> Optional[str]:
    """A plain string from a JSON-LD value (a name, a list's first, a PropertyValue's value)."""
    if isinstance(value, list):
        value = next((item for item in value if item not in (None, "")), None)
    if isinstance(value, dict):
        value = value.get("value", value.get("name", value.get("@id")))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = " ".join(html.unescape(_TAG.sub(" ", value)).split())
    return cleaned or None


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return None
    try:
        return float(str(value).replace(",", "").strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _pay(salary: Any) -> Optional[Pay]:
    """A MonetaryAmount (baseSalary) as Pay; None unless it gives an amount and a currency."""
    if isinstance(salary, list):
        salary = next((item for item in salary if isinstance(item, dict)), None)
    if not isinstance(salary, dict):
        return None
    currency = _text(salary.get("currency"))
    value = salary.get("value")
    unit = None
    if isinstance(value, dict):
        unit = (_text(value.get("unitText")) or "").upper() or None
        low = _number(value.get("minValue"))
        high = _number(value.get("maxValue"))
        single = _number(value.get("value"))
        low, high = (low if low is not None else single), (high if high is not None else single)
        low, high = (low if low is not None else high), (high if high is not None else low)
    else:
        low = high = _number(value)
    if low is None or high is None or not currency:
        return None
    return Pay(min(low, high), max(low, high), currency.upper(), unit if unit in PAY_UNITS else None)


def _location(place: Any) -> Optional[str]:
    if isinstance(place, list):
        place = next((item for item in place if item), None)
    address = place.get("address") if isinstance(place, dict) else place
    if isinstance(address, dict):
        parts = [_text(address.get(key)) for key in ("streetAddress", "addressLocality")]
        return ", ".join(part for part in parts if part) or None
    return _text(address)


def _department(organization: Any) -> Optional[str]:
    if isinstance(organization, list):
        organization = next((item for item in organization if isinstance(item, dict)), None)
    if not isinstance(organization, dict):
        return None
    return _text(organization.get("department"))


def _posting(node: dict) -> Optional[Posting]:
    title = _text(node.get("title"))
    url = _text(node.get("url"))
    if not title:
        return None
    types = node.get("employmentType")
    employment_types = tuple(
        str(value).strip().upper().replace("-", "_").replace(" ", "_")
        for value in (types if isinstance(types, list) else [types])
        if isinstance(value, str) and value.strip()
    )
    return Posting(
        identifier=_text(node.get("identifier")) or url or title,
        title=title,
        department=_department(node.get("hiringOrganization")),
        employment_types=employment_types,
        pay=_pay(node.get("baseSalary")),
        location=_location(node.get("jobLocation")),
        valid_through=_text(node.get("validThrough")),
        apply_url=url,
        date_posted=_text(node.get("datePosted")),
        description=_text(node.get("description")) or "",
        kinds=kinds_of(employment_types, title),
    )


def _unique(postings: List[Posting]) -> Tuple[Posting, ...]:
    """One posting per identifier (a careers page may embed a posting twice), in the feed's order."""
    return tuple({posting.identifier: posting for posting in reversed(postings)}.values())[::-1]


# --- RSS and Atom ------------------------------------------------------------------------------


def _from_rss(body: bytes) -> Feed:
    parsed = feedparser.parse(body)
    if not parsed.entries:
        reason = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no entries"
        raise FeedError(f"not an RSS/Atom feed with entries: {reason}")
    postings: List[Posting] = []
    for entry in parsed.entries:
        title = _text(entry.get("title"))
        if not title:
            continue
        link = _text(entry.get("link"))
        tags = entry.get("tags") or []
        department = _text(tags[0].get("term")) if tags else None
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        postings.append(
            Posting(
                identifier=_text(entry.get("id")) or link or title,
                title=title,
                department=department,
                apply_url=link,
                date_posted=time.strftime("%Y-%m-%d", published) if published else None,
                description=_text(entry.get("summary")) or "",
                kinds=kinds_of((), title),
            )
        )
    return Feed(_unique(postings), _text(parsed.feed.get("link")))
