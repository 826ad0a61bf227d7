"""Rasa's SQL tracker store, with the conversations in use kept in memory.

Rasa's `SQLTrackerStore` reads every event of the conversation's session from
the database on every message, decodes the JSON of each and replays them all
into a new tracker: a turn's cost grows with the conversation's length, and
most of a long conversation's time goes there. This store keeps the trackers
it handed out in memory (least recently used dropped first) and, on the next
message, reads only the rows added since, which is also what makes it correct
with several Rasa processes: whatever another process stored for the
conversation is read and applied before the turn runs (a single Rasa process,
TRACKER_SHARED=0, skips that read). The database still holds every event; a
restart just reads them again. A conversation idle longer than the retention
limit is read again too: the retention job (bot/retention) may have anonymised it.

At startup the store also makes the index the dashboard and the console's
search read events by (`TIME_INDEX`): Rasa indexes `events` by conversation id
only, so without it a date range's resident messages are found by reading every
event ever stored. Rasa creates that table, in a database our migrations do
not manage (var/rasa.db; with DATABASE_URL they share one, but leave `events`
alone, which may not exist yet when they run): the index is made here, an
idempotent CREATE INDEX IF NOT EXISTS, as Rasa's create_all makes the table.

The database calls run in a worker thread, off the Rasa server's event loop.
The two made on every message (read what is new, insert the turn's events),
and the reads and counts of a conversation's latest session (its first
message in this process), are plain SQL on SQLite and PostgreSQL:
SQLAlchemy's ORM and statement machinery cost several times the database work.

endpoints.yml selects it by module path, with the same settings as `type: SQL`:

    tracker_store:
      type: bot.rasa_ext.tracker_store.CachedSQLTrackerStore
      dialect: sqlite
      url: sqlite:///var/rasa.db
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.db import engine as db_engine
from bot.retention.policy import retention_days
from bot.settings import settings

logger = logging.getLogger(__name__)

# Conversations kept in memory per Rasa process (TRACKER_CACHE_SIZE).
DEFAULT_CACHE_SIZE = 5000

Row = Tuple[int, str, str]  # (id, type_name, data)

# The dashboard's and the search's index: a date range's resident messages are
# `type_name = 'user' AND timestamp >= start AND timestamp < end`
# (bot.handoff.tracker_events.sessions_query and TrackerEvents.active_between).
TIME_INDEX = "ix_events_type_name_timestamp"


@dataclass
class CachedTracker:
    """A tracker handed out, with how much of it the database already holds."""

    tracker: DialogueStateTracker
    stored: int  # the first `stored` events of tracker.events are in the database
    last_id: int  # the highest row id among them


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQL tracker store that reads only what is new for a conversation it already holds."""

    # Set by SQLTrackerStore.__init__ (Rasa has no type information) and replaced below for SQLite.
    engine: sa.engine.Engine

    def __init__(
        self, *args: Any, cache_size: Optional[int] = None, shared: Optional[bool] = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # Rasa opens a new SQLite connection per query and fsyncs every commit;
            # pooled connections in WAL mode (as the assistant's other databases).
            self.engine.dispose()
            self.engine = db_engine.create_engine(self.engine.url.render_as_string(hide_password=False))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self.cache_size = int(cache_size or settings().tracker_cache_size or DEFAULT_CACHE_SIZE)
        # Whether other Rasa processes write to this database too (`citybot run` says
        # "0" when it runs a single Rasa process): if not, a conversation held in
        # memory has nothing new in the database to read.
        self.shared = settings().tracker_shared if shared is None else shared
        # A conversation idle longer than the retention limit may have been anonymised
        # in the database (bot/retention): it is read again, never served from memory.
        self.idle_limit_seconds = retention_days() * 86400.0
        self._cache: "OrderedDict[str, CachedTracker]" = OrderedDict()
        self._cache_lock = threading.Lock()
        self._sql = plain_sql(self.engine, self.SQLEvent.__tablename__)
        ensure_time_index(self.engine, self.SQLEvent.__tablename__)

    # --- reading -------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The conversation's tracker for its latest session, as every Rasa process has stored it."""
        cached = self._cached(sender_id)
        if cached is not None and not self.shared:
            return cached.tracker
        if cached is not None:
            rows = await asyncio.to_thread(self._rows_after, sender_id, cached.last_id)
            if not any(type_name == SessionStarted.type_name for _, type_name, _ in rows):
                for row_id, _, data in rows:  # what another Rasa process stored since
                    cached.tracker.update(Event.from_parameters(json.loads(data)))
                    cached.stored += 1
                    cached.last_id = row_id
                return cached.tracker
        return await self._load(sender_id)

    def _cached(self, sender_id: str) -> Optional[CachedTracker]:
        """The tracker held for a conversation, if it holds nothing the database does not."""
        with self._cache_lock:
            cached = self._cache.get(sender_id)
            if cached is None:
                return None
            if len(cached.tracker.events) != cached.stored or self._idle_too_long(cached.tracker):
                # Changed but never saved (a turn that failed), or maybe forgotten since: the database is right.
                del self._cache[sender_id]
                return None
            self._cache.move_to_end(sender_id)
            return cached

    def _idle_too_long(self, tracker: DialogueStateTracker) -> bool:
        latest = tracker.events[-1].timestamp if tracker.events else None
        return latest is not None and time.time() - latest > self.idle_limit_seconds

    async def _load(self, sender_id: str) -> Optional[DialogueStateTracker]:
        rows = await asyncio.to_thread(self._session_rows, sender_id)
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for _, _, data in rows], self.domain.slots
        )
        self._remember(CachedTracker(tracker, stored=len(tracker.events), last_id=rows[-1][0]))
        return tracker

    def _remember(self, cached: CachedTracker) -> None:
        with self._cache_lock:
            self._cache[cached.tracker.sender_id] = cached
            self._cache.move_to_end(cached.tracker.sender_id)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _session_rows(self, sender_id: str) -> List[Row]:
        """Every row of the conversation's latest session, as SQLTrackerStore.retrieve reads them."""
        sql = self._sql
        if sql is not None:
            return self._plain_rows(sql.session_rows, sql.session_parameters(sender_id))
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            return [(event.id, event.type_name, event.data) for event in query.all()]

    def _rows_after(self, sender_id: str, last_id: int) -> List[Row]:
        sql = self._sql
        if sql is not None:
            return self._plain_rows(sql.rows_after, (sender_id, last_id))
        with self.session_scope() as session:
            query = (
                session.query(self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
                .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > last_id)
                .order_by(self.SQLEvent.id)
            )
            return [(row.id, row.type_name, row.data) for row in query.all()]

    def _plain_rows(self, statement: str, parameters: Tuple[Any, ...]) -> List[Any]:
        """The rows of one of `PlainSQL`'s queries, as tuples, in a transaction of its own."""

        def read(cursor: Any) -> List[Any]:
            cursor.execute(statement, parameters)
            return [tuple(row) for row in cursor.fetchall()]

        return db_engine.raw_transaction(self.engine, read)

    # --- writing -------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events; the tracker stays cached for the conversation's next message."""
        with self._cache_lock:
            cached = self._cache.get(tracker.sender_id)
        if cached is None or cached.tracker is not tracker:
            # A tracker this store did not hand out (a new conversation, a tracker
            # replaced through the HTTP API): what Rasa's save does, in a thread.
            with self._cache_lock:
                self._cache.pop(tracker.sender_id, None)
            await self.stream_events(tracker)
            held_before, last_id = await asyncio.to_thread(self._store_missing, tracker)
            events = list(tracker.events)
            if held_before == 0 and last_id:
                # A conversation new to the database: it holds exactly these events now.
                self._remember(CachedTracker(tracker, stored=len(events), last_id=last_id))
        else:
            events = list(tracker.events)[cached.stored :]
            if not events:
                return
            if self.event_broker is not None:
                await self._stream_new_events(self.event_broker, events, tracker.sender_id)
            last_id = await asyncio.to_thread(self._insert, tracker.sender_id, events)
            cached.stored += len(events)
            cached.last_id = max(cached.last_id, last_id)
        if any(isinstance(event, SessionStarted) for event in events):
            # A new session: from now on Rasa reads only that session's events.
            with self._cache_lock:
                self._cache.pop(tracker.sender_id, None)

    def _store_missing(self, tracker: DialogueStateTracker) -> Tuple[int, int]:
        """SQLTrackerStore.save: the tracker's events past the number the database holds are inserted.

        Returns that number (the events of the conversation's latest session in the
        database, as Rasa counts them) and the last row id afterwards.
        """
        sql = self._sql
        if sql is not None:
            held = int(self._plain_rows(sql.session_count, sql.session_parameters(tracker.sender_id))[0][0])
        else:
            with self.session_scope() as session:
                held = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        return held, self._insert(tracker.sender_id, list(tracker.events)[held:])

    def _insert(self, sender_id: str, events: Sequence[Event]) -> int:
        """Insert events with the columns SQLTrackerStore.save writes; returns the last row id (0: none)."""
        rows = [event_row(sender_id, event) for event in events]
        sql = self._sql
        if sql is not None and sql.single_insert and 0 < len(rows) <= ROWS_PER_INSERT:
            parameters = [value for row in rows for value in row]
            return db_engine.sqlite_insert(self.engine, sql.insert_rows(len(rows)), parameters)
        if sql is not None:

            def insert(cursor: Any) -> int:
                if rows:
                    cursor.executemany(sql.insert_rows(1), rows)
                cursor.execute(sql.last_id, (sender_id,))
                return int(cursor.fetchone()[0] or 0)

            return db_engine.raw_transaction(self.engine, insert)
        values = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
        table = self.SQLEvent.__table__
        with self.session_scope() as session:
            if values:
                session.execute(table.insert(), values)
            last_id = session.execute(
                sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sender_id)
            ).scalar_one()
            session.commit()
            return int(last_id or 0)


def ensure_time_index(engine: sa.engine.Engine, table: str) -> None:
    """Make TIME_INDEX on Rasa's events table unless it is there (SQLite and PostgreSQL; other databases: a warning).

    Run as the store starts, like Rasa's create_all, before the server answers.
    Processes starting together on PostgreSQL take turns (an advisory lock),
    so none fails on the index another is making. A store that cannot make it
    still starts: the dashboard is slower, nothing is wrong.
    """
    if engine.dialect.name not in ("sqlite", "postgresql"):
        logger.warning("no %s on %s: made on SQLite and PostgreSQL only", TIME_INDEX, engine.dialect.name)
        return
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                key = zlib.crc32(TIME_INDEX.encode())
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})  # until commit
            connection.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {TIME_INDEX} ON {table} (type_name, timestamp)"))
    except sa.exc.SQLAlchemyError as error:
        logger.warning("could not make %s (%s): the dashboard reads every event", TIME_INDEX, type(error).__name__)


# The columns SQLTrackerStore.save writes for an event, in this order.
EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
# Rows inserted by one SQLite statement: within the 999 parameters older SQLite builds allow.
ROWS_PER_INSERT = 999 // len(EVENT_COLUMNS)


def event_row(sender_id: str, event: Event) -> Tuple[Any, ...]:
    """An event's values for EVENT_COLUMNS, as SQLTrackerStore.save computes them."""
    data = event.as_dict()
    return (
        sender_id,
        event.type_name,
        data.get("timestamp"),
        data.get("parse_data", {}).get("intent", {}).get("name"),
        data.get("name"),
        json.dumps(data),
    )


@dataclass(frozen=True)
class PlainSQL:
    """The statements run on every message, and on a conversation's first, in the driver's own SQL."""

    rows_after: str
    # The id comes from the database (SQLite's rowid, PostgreSQL's SERIAL: Rasa's sequence is optional).
    insert_into: str  # "INSERT INTO events (...) VALUES ", before the rows
    insert_values: str  # one row's "(?, ...)"
    last_id: str
    # The rows of a conversation's latest session and their number, as SQLTrackerStore._event_query
    # selects them: from its latest session start (by timestamp), or all when it has none.
    # Read when a process takes up a conversation it does not hold (its first message, a restart).
    session_rows: str
    session_count: str
    # SQLite: a turn's rows go in as one statement, its own transaction (db_engine.sqlite_insert).
    single_insert: bool

    def insert_rows(self, count: int) -> str:
        """The INSERT of `count` rows in one statement."""
        return self.insert_into + ", ".join([self.insert_values] * count)

    @staticmethod
    def session_parameters(sender_id: str) -> Tuple[str, str, str]:
        """The parameters of `session_rows` and `session_count`."""
        return (sender_id, SessionStarted.type_name, sender_id)


def plain_sql(engine: sa.engine.Engine, table: str) -> Optional[PlainSQL]:
    """The statements for SQLite or PostgreSQL; None for other databases (SQLAlchemy's path then)."""
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return None
    mark = db_engine.placeholder(engine)
    columns = ", ".join(EVENT_COLUMNS)
    values = "(" + ", ".join([mark] * len(EVENT_COLUMNS)) + ")"
    # `type_name || ''`: the latest session start is found among the conversation's own rows (by
    # sender_id's index). Compared as `type_name = ...`, the planners pick TIME_INDEX and read every
    # session start of every conversation newer than this one's: all of them for a new conversation.
    latest_session = (
        f"FROM {table}, (SELECT max(timestamp) AS session_start FROM {table}"
        f" WHERE sender_id = {mark} AND type_name || '' = {mark}) AS latest"
        f" WHERE {table}.sender_id = {mark}"
        f" AND ({table}.timestamp >= latest.session_start OR latest.session_start IS NULL)"
    )
    return PlainSQL(
        rows_after=f"SELECT id, type_name, data FROM {table} WHERE sender_id = {mark} AND id > {mark} ORDER BY id",
        insert_into=f"INSERT INTO {table} ({columns}) VALUES ",
        insert_values=values,
        last_id=f"SELECT max(id) FROM {table} WHERE sender_id = {mark}",
        session_rows=f"SELECT {table}.id, {table}.type_name, {table}.data {latest_session} ORDER BY {table}.id",
        session_count=f"SELECT count(*) {latest_session}",
        single_insert=dialect == "sqlite",
    )
