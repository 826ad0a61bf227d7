"""Finding conversations for staff: by report reference, city request number, channel and dates.

A reference ("R-KVJ88H", the outbox's) or a request number (the Open311
service_request_id a filed report got) names reports, and so the conversations
that made them; a channel and a date range name the conversations a resident
wrote in then (from Rasa's tracker store, bot/handoff/tracker_events.py). Each
conversation found comes with its reports and handoffs. A reference or number
is matched whatever its case and spaces ("r-kvj88h", " R-KVJ88H ").

Nothing here logs: search terms and what they find are nobody's business in a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Collection, Dict, List, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database
from bot.db.schema import handoffs, report_outbox
from bot.handoff.store import Handoff, aware
from bot.handoff.tracker_events import ConversationSpan, TrackerUnavailable, tracker_events
from bot.i18n.store import languages_for

MAX_TERM_CHARS = 64
RESULT_LIMIT = 50
REFERENCE = re.compile(r"R-?([A-Z0-9]{6})")
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


class SearchError(ValueError):
    """A search that cannot be run as given; the message tells staff what to change."""


@dataclass(frozen=True)
class SearchQuery:
    """A search as staff asked it, checked; the `*_text` fields are what the form shows again."""

    term: str = ""
    reference: Optional[str] = None  # "R-KVJ88H" when the term reads as a reference
    number: Optional[str] = None  # the term as a request number: upper case, no spaces
    channel: Optional[str] = None
    start: Optional[datetime] = None  # the first moment of the "from" day, in the city's zone
    end: Optional[datetime] = None  # the first moment after the "to" day
    from_text: str = ""
    to_text: str = ""

    @property
    def empty(self) -> bool:
        return not (self.term or self.channel or self.start or self.end)


def compact(term: str) -> str:
    """A reference or number as compared: no spaces, upper case, without a leading '#'."""
    return re.sub(r"\s+", "", term).upper().lstrip("#")


def as_reference(term: str) -> Optional[str]:
    """The outbox reference a term reads as ("r kvj88h" -> "R-KVJ88H"), or None."""
    match = REFERENCE.fullmatch(compact(term))
    return f"R-{match.group(1)}" if match else None


def parse_day(text: str, label: str) -> Optional[date]:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SearchError(f"{label} must be a date written like 2024-05-31.") from None


def parse_query(args: Mapping[str, str], zone: ZoneInfo, channels: Collection[str]) -> SearchQuery:
    """The search in a form's fields (q, channel, from, to); SearchError when one cannot be used."""
    term = (args.get("q") or "").strip()
    if len(term) > MAX_TERM_CHARS:
        raise SearchError(f"A reference or request number has at most {MAX_TERM_CHARS} characters.")
    channel = (args.get("channel") or "").strip() or None
    if channel is not None and channel not in channels:
        raise SearchError("Choose a channel from the list.")
    from_text, to_text = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    first, last = parse_day(from_text, "From"), parse_day(to_text, "To")
    if first and last and first > last:
        raise SearchError("The 'from' date is after the 'to' date.")
    return SearchQuery(
        term=term,
        reference=as_reference(term) if term else None,
        number=compact(term) or None,
        channel=channel,
        start=datetime.combine(first, time(), zone) if first else None,
        end=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
        from_text=from_text,
        to_text=to_text,
    )


@dataclass(frozen=True)
class FoundReport:
    reference: str
    service: str
    state: str
    service_request_id: Optional[str]
    created_at: datetime
    matched: bool  # the search's reference or number is this report's


@dataclass(frozen=True)
class FoundConversation:
    """A conversation found, with what is tied to it (sender_id None: a report made outside a conversation)."""

    sender_id: Optional[str]
    span: Optional[ConversationSpan]  # None when the tracker store does not have it (or cannot be read)
    language: Optional[str]
    reports: List[FoundReport] = field(default_factory=list)
    handoffs: List[Handoff] = field(default_factory=list)

    @property
    def channel(self) -> Optional[str]:
        if self.span is not None:
            return self.span.channel
        return self.handoffs[-1].channel if self.handoffs else None

    @property
    def first_at(self) -> Optional[datetime]:
        moments = [self.span.first_at] if self.span else [r.created_at for r in self.reports]
        return min(moments, default=None)

    @property
    def last_at(self) -> Optional[datetime]:
        moments = [self.span.last_at] if self.span else [r.created_at for r in self.reports]
        return max(moments, default=None)

    @property
    def link(self) -> Optional[str]:
        """Where staff open it: its latest handoff's page, else its read-only transcript."""
        if self.handoffs:
            return f"/console/handoffs/{self.handoffs[-1].id}"
        if self.span is not None:
            return f"/console/conversations/{self.span.key}"
        return None

    def active_in(self, start: Optional[datetime], end: Optional[datetime]) -> bool:
        first, last = self.first_at, self.last_at
        if first is None or last is None:
            return False
        return (start is None or last >= start) and (end is None or first < end)


@dataclass(frozen=True)
class SearchResults:
    conversations: List[FoundConversation]
    more: bool = False  # there were more than RESULT_LIMIT
    problem: Optional[str] = None  # why some of what was found is not shown


def found_report(row: Any, query: SearchQuery) -> FoundReport:
    number = compact(row.service_request_id or "")
    return FoundReport(
        reference=row.reference,
        service=row.service_name or row.service_code,
        state=row.state,
        service_request_id=row.service_request_id,
        created_at=aware(row.created_at),
        matched=bool(query.term) and (row.reference == query.reference or bool(number) and number == query.number),
    )


def matching(query: SearchQuery) -> Any:
    """The outbox rows a reference or request number names."""
    number = sa.func.upper(sa.func.replace(report_outbox.c.service_request_id, " ", ""))
    conditions = [number == query.number] if query.number else []
    if query.reference:
        conditions.append(report_outbox.c.reference == query.reference)
    return sa.select(report_outbox).where(sa.or_(sa.false(), *conditions)).order_by(report_outbox.c.created_at)


async def describe(
    sender_ids: Sequence[str], spans: Mapping[str, ConversationSpan], query: SearchQuery
) -> List[FoundConversation]:
    """Each conversation with its reports, handoffs and resident's language."""

    def work(connection: Connection) -> tuple:
        reports = connection.execute(
            sa.select(report_outbox)
            .where(report_outbox.c.sender_id.in_(sender_ids))
            .order_by(report_outbox.c.created_at)
        ).all()
        held = connection.execute(
            sa.select(handoffs).where(handoffs.c.sender_id.in_(sender_ids)).order_by(handoffs.c.id)
        ).all()
        return reports, held

    reports, held = await database().run(work) if sender_ids else ([], [])
    languages = await languages_for(sender_ids)
    by_sender: Dict[str, FoundConversation] = {
        s: FoundConversation(s, spans.get(s), languages.get(s)) for s in sender_ids
    }
    for row in reports:
        by_sender[row.sender_id].reports.append(found_report(row, query))
    for row in held:
        by_sender[row.sender_id].handoffs.append(Handoff.from_row(row))
    return list(by_sender.values())


async def by_term(query: SearchQuery) -> SearchResults:
    """The conversations whose reports the reference or number names, in the channel and dates asked."""
    rows = await database().run(lambda c: c.execute(matching(query)).all())
    sender_ids = list(dict.fromkeys(r.sender_id for r in rows if r.sender_id))
    problem = None
    try:
        spans = await tracker_events().spans(sender_ids)
    except TrackerUnavailable as error:
        spans, problem = {}, f"Conversation details are missing: {error}."
    found = await describe(sender_ids, spans, query)
    found += [
        FoundConversation(None, None, row.language, [found_report(row, query)]) for row in rows if not row.sender_id
    ]
    if query.channel:
        found = [f for f in found if f.channel == query.channel]
    if query.start or query.end:
        found = [f for f in found if f.active_in(query.start, query.end)]
    return SearchResults(found, problem=problem)


async def by_activity(query: SearchQuery) -> SearchResults:
    """The conversations a resident wrote in on the channel and in the dates asked, latest first."""
    try:
        spans = await tracker_events().active_between(query.start, query.end, query.channel, RESULT_LIMIT + 1)
    except TrackerUnavailable as error:
        return SearchResults([], problem=f"Conversations cannot be listed by channel or date: {error}.")
    shown = spans[:RESULT_LIMIT]
    found = await describe([s.sender_id for s in shown], {s.sender_id: s for s in shown}, query)
    return SearchResults(found, more=len(spans) > RESULT_LIMIT)


async def search(query: SearchQuery) -> SearchResults:
    """What a search finds, the latest conversation first (nothing for an empty search)."""
    if query.empty:
        return SearchResults([])
    results = await (by_term(query) if query.term else by_activity(query))
    latest_first = sorted(results.conversations, key=lambda f: f.last_at or EARLIEST, reverse=True)
    return SearchResults(latest_first, results.more, results.problem)
