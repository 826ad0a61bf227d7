"""Conversations as Rasa's SQL tracker store holds them, read by the console across many at once.

Rasa's HTTP API gives one conversation's tracker at a time; the console also
lists conversations by channel and date (search), shows each waiting
resident's latest message (the queue) and counts the conversations of a date
range (the dashboard, bot/dashboard). All read the tracker store's `events`
table as Rasa's SQLTrackerStore lays it out (one row per event, its JSON in
`data`; bot/rasa_ext/tracker_store.py writes the same rows). Nothing here writes.

The store is TRACKER_URL (which `citybot run` gives its processes), else where
`citybot run` puts it: DATABASE_URL, or var/rasa.db. A store that cannot be read
(not SQL, or no Rasa server has written it yet) raises `TrackerUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Collection, Dict, Iterable, List, Optional, Sequence, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.channels.identity import channel_of, is_anonymous_sender_id, is_channel_sender_id
from bot.db import engine as db_engine
from bot.settings import settings

T = TypeVar("T")

# Rasa's SQLTrackerStore.SQLEvent, the columns read here.
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
USER = "user"  # UserUttered: what a resident wrote
SESSION_STARTED = "session_started"  # a new conversation session (Rasa's session_config)
SLOT = "slot"
LOOK_BACK = 10  # a resident's latest messages read to find one they typed (not a button's payload)


class TrackerUnavailable(Exception):
    """The tracker store cannot be read; the message says why (no conversation content)."""


def tracker_url() -> str:
    """TRACKER_URL, else the store `citybot run` gives the Rasa server (DATABASE_URL, else var/rasa.db)."""
    from bot.process.stack import StackConfig

    configured = settings().tracker_url
    if configured:
        return configured
    config = StackConfig(var_dir=settings().var_dir, database_url=settings().database_url)
    return config.tracker_env()["TRACKER_URL"]


def sqlite_file(url: str) -> Optional[Path]:
    """The file of a SQLite URL (None for another database)."""
    parsed = sa.engine.make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


def conversation_channel(sender_id: str, input_channel: Optional[str]) -> str:
    """The channel as the console names it: a messaging channel's id says it (SMS and WhatsApp share Twilio),
    and so does an anonymised conversation's (bot/retention keeps the channel in it)."""
    if is_anonymous_sender_id(sender_id):
        return channel_of(sender_id)
    if is_channel_sender_id(sender_id):
        return sender_id.split("-", 1)[0]
    return input_channel or "rest"


def moment(timestamp: Optional[float]) -> datetime:
    return datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)


@dataclass(frozen=True)
class ConversationSpan:
    """A conversation as its resident's messages outline it."""

    sender_id: str
    key: int  # the row of its first resident message: the conversation's number in console links
    channel: str
    first_at: datetime
    last_at: datetime
    messages: int


@dataclass(frozen=True)
class StoredEvent:
    """One stored event as the dashboard reads it; `data` (the event's JSON) only for the types asked."""

    sender_id: str
    type_name: str
    timestamp: float
    action_name: Optional[str]
    data: Optional[str]


@dataclass(frozen=True)
class LatestMessage:
    text: str
    at: datetime


def typed_text(data: str) -> Optional[str]:
    """What a resident typed, from a user event's JSON; None for a button's payload ("/request_human")."""
    try:
        return typed(json.loads(data).get("text"))
    except (ValueError, AttributeError):
        return None


def typed(text: Any) -> Optional[str]:
    """A user event's text if a resident typed it: None for none (an anonymised message) or a button's payload."""
    text = str(text or "").strip()
    return text if text and not text.startswith("/") else None


def input_channel(data: Optional[str]) -> Optional[str]:
    try:
        value = json.loads(data or "{}").get("input_channel")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


class TrackerEvents:
    """The tracker store's events, read-only, off the event loop."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or tracker_url()
        self._engine: Optional[Engine] = None

    def _connect(self) -> Engine:
        if self._engine is None:
            path = sqlite_file(self.url)
            if path is not None and not path.exists():  # opening it would create an empty file
                raise TrackerUnavailable("no conversation has been stored yet")
            self._engine = db_engine.create_engine(self.url)
        return self._engine

    async def run(self, work: Callable[[Connection], T]) -> T:
        def read() -> T:
            try:
                with self._connect().connect() as connection:
                    return work(connection)
            except sa.exc.SQLAlchemyError as error:
                raise TrackerUnavailable(f"the conversation store cannot be read ({type(error).__name__})") from None

        return await asyncio.to_thread(read)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- search ----------------------------------------------------------------------

    async def active_between(
        self,
        start: Optional[datetime],
        end: Optional[datetime],
        channel: Optional[str] = None,
        limit: int = 50,
    ) -> List[ConversationSpan]:
        """Conversations with a resident message in [start, end) on `channel`, latest first, at most `limit`."""
        query = sa.select(events.c.sender_id).where(events.c.type_name == USER)
        if start is not None:
            query = query.where(events.c.timestamp >= start.timestamp())
        if end is not None:
            query = query.where(events.c.timestamp < end.timestamp())
        if channel:
            query = query.where(self._channel_clue(channel))
        query = query.group_by(events.c.sender_id).order_by(sa.func.max(events.c.timestamp).desc())
        found: List[ConversationSpan] = []
        offset = 0
        while len(found) < limit:
            page = await self.run(self._senders(query.limit(limit).offset(offset)))
            spans = await self.spans(page)
            found += [spans[s] for s in page if s in spans and (not channel or spans[s].channel == channel)]
            if len(page) < limit:
                break
            offset += limit
        return found[:limit]

    @staticmethod
    def _senders(query: Any) -> Callable[[Connection], List[str]]:
        return lambda connection: list(connection.execute(query).scalars().all())

    @staticmethod
    def _channel_clue(channel: str) -> Any:
        """A condition every event of the channel meets (the spans' channel is then checked exactly)."""
        if channel in ("webchat", "telegram", "sms", "whatsapp", "messenger", "instagram"):
            return events.c.sender_id.like(f"{channel}-%")
        return events.c.data.like(f'%"input_channel": "{channel}"%')

    async def spans(self, sender_ids: Iterable[str]) -> Dict[str, ConversationSpan]:
        """The outline of each of these conversations that a resident wrote in."""
        wanted = list(dict.fromkeys(s for s in sender_ids if s))
        if not wanted:
            return {}

        def work(connection: Connection) -> Dict[str, ConversationSpan]:
            rows = connection.execute(
                sa.select(
                    events.c.sender_id,
                    sa.func.min(events.c.id).label("first_id"),
                    sa.func.max(events.c.id).label("last_id"),
                    sa.func.min(events.c.timestamp).label("first_at"),
                    sa.func.max(events.c.timestamp).label("last_at"),
                    sa.func.count().label("messages"),
                )
                .where(events.c.type_name == USER, events.c.sender_id.in_(wanted))
                .group_by(events.c.sender_id)
            ).all()
            latest = dict(
                connection.execute(
                    sa.select(events.c.id, events.c.data).where(events.c.id.in_([r.last_id for r in rows]))
                ).all()
            )
            return {
                r.sender_id: ConversationSpan(
                    sender_id=r.sender_id,
                    key=int(r.first_id),
                    channel=conversation_channel(r.sender_id, input_channel(latest.get(r.last_id))),
                    first_at=moment(r.first_at),
                    last_at=moment(r.last_at),
                    messages=int(r.messages),
                )
                for r in rows
            }

        return await self.run(work)

    async def sender_of(self, key: int) -> Optional[str]:
        """The conversation a console link's number names (the row of a resident message), or None."""
        return await self.run(
            lambda c: c.execute(
                sa.select(events.c.sender_id).where(events.c.id == key, events.c.type_name == USER)
            ).scalar()
        )

    # --- the queue -------------------------------------------------------------------

    async def latest_messages(self, sender_ids: Sequence[str]) -> Dict[str, LatestMessage]:
        """What each resident last typed (a button's payload is passed over)."""

        def work(connection: Connection) -> Dict[str, LatestMessage]:
            found: Dict[str, LatestMessage] = {}
            for sender_id in dict.fromkeys(sender_ids):
                rows = connection.execute(
                    sa.select(events.c.timestamp, events.c.data)
                    .where(events.c.sender_id == sender_id, events.c.type_name == USER)
                    .order_by(events.c.id.desc())
                    .limit(LOOK_BACK)
                ).all()
                for row in rows:
                    text = typed_text(row.data)
                    if text is not None:
                        found[sender_id] = LatestMessage(text, moment(row.timestamp))
                        break
            return found

        return await self.run(work)

    async def last_message_id(self, sender_ids: Sequence[str]) -> int:
        """Grows whenever one of these residents writes (for the queue's live updates)."""
        if not sender_ids:
            return 0
        return await self.run(
            lambda c: int(
                c.execute(
                    sa.select(sa.func.max(events.c.id)).where(
                        events.c.type_name == USER, events.c.sender_id.in_(list(sender_ids))
                    )
                ).scalar()
                or 0
            )
        )

    # --- the dashboard -----------------------------------------------------------------

    async def visit_sessions(
        self,
        start: datetime,
        end: datetime,
        types: Collection[str],
        visit: Callable[[StoredEvent], None],
        with_data: Collection[str] = (USER, SLOT),
        slot_names: Collection[str] = (),
    ) -> None:
        """Show `visit` the events of `types` of every session that may have begun in [start, end), in a worker
        thread, each conversation's events together and in order.

        These are the conversations a resident wrote in during [start, end),
        from their last session start before `start` (so a session begun
        earlier is seen whole, and can be told apart) to their first session
        start at or after `end`; nothing older or newer is read. `with_data`:
        the types whose JSON is read; `slot_names`: the only slots read (their
        names in the JSON: a loose filter, the visitor checks the name).

        The conversations are found by their resident messages in the range,
        through the index on `events (type_name, timestamp)` that the tracker
        store makes at startup (bot/rasa_ext/tracker_store.py, TIME_INDEX).
        """
        lo, hi = start.timestamp(), end.timestamp()
        is_start = events.c.type_name == SESSION_STARTED
        active = (
            sa.select(events.c.sender_id)
            .where(events.c.type_name == USER, events.c.timestamp >= lo, events.c.timestamp < hi)
            .distinct()
        )
        bounds = (
            sa.select(
                events.c.sender_id,
                sa.func.max(sa.case((sa.and_(is_start, events.c.timestamp < lo), events.c.timestamp))).label("since"),
                sa.func.min(sa.case((sa.and_(is_start, events.c.timestamp >= hi), events.c.timestamp))).label("until"),
            )
            .where(events.c.sender_id.in_(active))
            .group_by(events.c.sender_id)
            .subquery()
        )
        slots = [events.c.data.like(f'%"{name}"%') for name in slot_names]
        query = (
            sa.select(
                events.c.sender_id,
                events.c.type_name,
                events.c.timestamp,
                events.c.action_name,
                sa.case((events.c.type_name.in_(list(with_data)), events.c.data)).label("data"),
            )
            .join(bounds, bounds.c.sender_id == events.c.sender_id)
            .where(
                events.c.type_name.in_(list(types)),
                sa.or_(bounds.c.since.is_(None), events.c.timestamp >= bounds.c.since),
                sa.or_(bounds.c.until.is_(None), events.c.timestamp < bounds.c.until),
                sa.or_(events.c.type_name != SLOT, *slots) if slot_names else sa.true(),
            )
            .order_by(events.c.sender_id, events.c.id)
        )

        def work(connection: Connection) -> None:
            for row in connection.execution_options(stream_results=True).execute(query):
                visit(StoredEvent(row.sender_id, row.type_name, float(row.timestamp or 0), row.action_name, row.data))

        await self.run(work)


_tracker_events: Optional[TrackerEvents] = None


def tracker_events() -> TrackerEvents:
    """The process-wide reader of the configured tracker store."""
    global _tracker_events
    if _tracker_events is None:
        _tracker_events = TrackerEvents()
    return _tracker_events


def reset_tracker_events() -> None:
    """Forget the process-wide reader (tests point it elsewhere)."""
    global _tracker_events
    if _tracker_events is not None:
        _tracker_events.dispose()
    _tracker_events = None
