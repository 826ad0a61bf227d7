"""CachedSQLTrackerStore: what Rasa's SQL tracker store stores and reads, without re-reading it all.

Two stores on one database stand for two Rasa processes.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.databases import create_database, drop_database
from bot.db import engine as db_engine
from bot.rasa_ext.tracker_store import ROWS_PER_INSERT, TIME_INDEX, CachedSQLTrackerStore, ensure_time_index
from tests.support.sqlite_trace import traced
from tests.support.tracker_store import tracker_store_settings

ROOT = Path(__file__).resolve().parents[3]
POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """Where the stores keep their events: a SQLite file, or a fresh database on the local PostgreSQL."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
        return
    url = create_database(POSTGRES_URL, "citybot_test_tracker")
    try:
        yield tracker_store_settings(url)
    finally:
        drop_database(POSTGRES_URL, url)


def store(domain: Domain, db: Dict[str, Any], kind: type = CachedSQLTrackerStore) -> SQLTrackerStore:
    return kind(domain=domain, **db)


def exchange(text: str) -> List[Event]:
    return [
        UserUttered(text, intent={"name": "faq", "confidence": 1.0}),
        ActionExecuted("utter_faq"),
        BotUttered(f"answer to {text}"),
        ActionExecuted("action_listen"),
    ]


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


async def test_a_conversation_goes_on_across_two_processes(domain: Domain, db: Dict[str, Any]):
    first, second = store(domain, db), store(domain, db)
    tracker = await first.get_or_create_tracker("resident")
    for event in exchange("one"):
        tracker.update(event)
    await first.save(tracker)

    again = await first.retrieve("resident")  # read once, then held in memory
    assert await first.retrieve("resident") is again
    for event in exchange("two"):
        again.update(event)
    await first.save(again)

    elsewhere = await second.retrieve("resident")  # the other process reads it all once
    assert texts(elsewhere) == ["one", "two"]
    for event in exchange("three"):
        elsewhere.update(event)
    elsewhere.update(SlotSet("service_code", "POTHOLE"))
    await second.save(elsewhere)

    back = await first.retrieve("resident")  # and the first reads only what the second added
    assert back is again
    assert texts(back) == ["one", "two", "three"]
    assert back.get_slot("service_code") == "POTHOLE"
    assert [e.as_dict() for e in back.events] == [e.as_dict() for e in elsewhere.events]

    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")  # Rasa's own store agrees
    assert [e.as_dict() for e in stock.events] == [e.as_dict() for e in back.events]


async def started(tracker_store: SQLTrackerStore, text: str) -> DialogueStateTracker:
    """A conversation with one exchange stored, read back (and so held in memory)."""
    tracker = await tracker_store.get_or_create_tracker("resident")
    for event in exchange(text):
        tracker.update(event)
    await tracker_store.save(tracker)
    return await tracker_store.retrieve("resident")


async def test_a_turn_that_was_never_saved_is_not_kept(domain: Domain, db: Dict[str, Any]):
    tracker_store = store(domain, db)
    tracker = await started(tracker_store, "saved")
    assert await tracker_store.retrieve("resident") is tracker
    for event in exchange("lost in a crash"):
        tracker.update(event)  # the turn fails before it is saved

    again = await tracker_store.retrieve("resident")
    assert texts(again) == ["saved"]
    assert again is not tracker


async def test_a_new_session_reads_like_rasas_store(domain: Domain, db: Dict[str, Any]):
    tracker_store = store(domain, db)
    tracker = await started(tracker_store, "yesterday")
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    for event in exchange("today"):
        tracker.update(event)
    await tracker_store.save(tracker)

    ours = await tracker_store.retrieve("resident")
    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")
    assert texts(ours) == texts(stock) == ["today"]
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in stock.events]


@pytest.mark.parametrize("sessions", [0, 1, 2])
def test_a_conversations_latest_session_is_read_and_counted_as_rasas_query_does(
    domain: Domain, db: Dict[str, Any], sessions: int
):
    tracker_store = store(domain, db)
    events: List[Event] = exchange("before any session")
    for number in range(sessions):
        events += [SessionStarted(), *exchange(f"session {number}")]
    for second, event in enumerate(events):
        event.timestamp = 1_700_000_000.0 + second
    tracker_store._insert("resident", events)
    tracker_store._insert("neighbour", [SessionStarted(timestamp=1_800_000_000.0)])  # another conversation's session

    with tracker_store.session_scope() as session:
        query = tracker_store._event_query(session, "resident", fetch_events_from_all_sessions=False)
        rasas = [(event.id, event.type_name, event.data) for event in query.all()]
        rasas_count = query.count()
    assert tracker_store._session_rows("resident") == rasas
    held, _ = tracker_store._store_missing(DialogueStateTracker.from_events("resident", [], domain.slots))
    assert held == rasas_count == len(rasas) == (len(events) if not sessions else 5)


def test_a_conversations_latest_session_is_found_by_its_own_rows_not_the_time_index(domain: Domain, tmp_path: Path):
    """Through TIME_INDEX, SQLite reads every session start newer than the conversation's (all, for a new one)."""
    tracker_store = store(domain, {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")})
    sql = tracker_store._sql
    with tracker_store.engine.connect() as connection:
        for statement in (sql.session_rows, sql.session_count):
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", sql.session_parameters("x")).all()
            used = " ".join(str(row[-1]) for row in plan)
            assert TIME_INDEX not in used and "ix_events_sender_id" in used


async def test_a_turn_goes_into_sqlite_as_one_statement_with_no_transaction_around_it(domain: Domain, tmp_path: Path):
    """Inside a transaction the file's write lock would be held across calls that wait for the event loop's GIL."""
    sqlite = {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
    tracker_store = store(domain, sqlite)
    tracker = await started(tracker_store, "one")
    statements = traced(tracker_store.engine)
    for event in exchange("two"):
        tracker.update(event)
    await tracker_store.save(tracker)

    assert len(statements) == 1 and statements[0].startswith("INSERT INTO events")
    stock = await store(domain, sqlite, SQLTrackerStore).retrieve("resident")
    assert [e.as_dict() for e in stock.events] == [e.as_dict() for e in tracker.events]


async def test_a_turn_too_long_for_one_statement_is_stored_whole(domain: Domain, db: Dict[str, Any]):
    tracker_store = store(domain, db)
    tracker = await started(tracker_store, "one")
    for index in range(ROWS_PER_INSERT + 1):
        tracker.update(SlotSet("description", f"take {index}"))
    await tracker_store.save(tracker)

    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")
    assert [e.as_dict() for e in stock.events] == [e.as_dict() for e in tracker.events]
    assert (await tracker_store.retrieve("resident")) is tracker  # still held: its last row id is right
    for event in exchange("two"):
        tracker.update(event)
    await tracker_store.save(tracker)
    assert texts(await store(domain, db).retrieve("resident")) == ["one", "two"]


async def test_an_unknown_conversation_is_none(domain: Domain, db: Dict[str, Any]):
    assert await store(domain, db).retrieve("nobody") is None


async def test_a_new_conversation_is_held_from_its_first_save(domain: Domain, db: Dict[str, Any]):
    tracker_store = store(domain, db)
    tracker = await tracker_store.get_or_create_tracker("resident")  # stored at once, as Rasa does
    assert await tracker_store.retrieve("resident") is tracker
    for event in exchange("first"):
        tracker.update(event)
    await tracker_store.save(tracker)

    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")
    assert [e.as_dict() for e in stock.events] == [e.as_dict() for e in tracker.events]
    assert (await tracker_store.retrieve("resident")) is tracker


async def test_a_tracker_it_did_not_hand_out_is_stored_as_rasa_does(domain: Domain, db: Dict[str, Any]):
    await started(store(domain, db), "before")
    replaced = DialogueStateTracker.from_events("resident", exchange("before") + exchange("after"), domain.slots)
    tracker_store = store(domain, db)
    await tracker_store.save(replaced)  # the database held the first exchange: Rasa adds what is past it

    ours = await tracker_store.retrieve("resident")
    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")
    assert ours is not replaced
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in stock.events]


async def test_the_database_is_used_off_the_event_loop(
    domain: Domain, db: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    tracker_store = store(domain, db)
    threads = set()

    def recorded(function: Any) -> Any:
        def call(*args: Any) -> Any:
            threads.add(threading.get_ident())
            return function(*args)

        return call

    monkeypatch.setattr(tracker_store, "session_scope", recorded(tracker_store.session_scope))
    for name in ("raw_transaction", "sqlite_insert"):  # the plain-SQL paths
        monkeypatch.setattr(db_engine, name, recorded(getattr(db_engine, name)))
    tracker = await tracker_store.get_or_create_tracker("resident")
    for event in exchange("one"):
        tracker.update(event)
    await tracker_store.save(tracker)
    await tracker_store.retrieve("resident")
    await store(domain, db).retrieve("resident")
    assert threads and threading.get_ident() not in threads


async def test_a_store_alone_on_its_database_reads_a_held_conversation_from_memory(
    domain: Domain, db: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    alone = CachedSQLTrackerStore(domain=domain, shared=False, **db)
    tracker = await started(alone, "one")

    def no_reads(*args: object) -> None:
        raise AssertionError("read the database for a conversation it holds")

    monkeypatch.setattr(alone, "_rows_after", no_reads)
    assert await alone.retrieve("resident") is tracker
    for event in exchange("two"):
        tracker.update(event)
    await alone.save(tracker)
    stock = await store(domain, db, SQLTrackerStore).retrieve("resident")
    assert texts(stock) == ["one", "two"]


async def test_a_conversation_idle_past_the_retention_limit_is_read_again(domain: Domain, db: Dict[str, Any]):
    """The retention job may have anonymised it since: memory must not bring back what the database forgot."""
    alone = CachedSQLTrackerStore(domain=domain, shared=False, **db)
    recent = await started(alone, "yesterday")
    stale = await alone.get_or_create_tracker("stale")
    for event in exchange("months ago"):
        event.timestamp = time.time() - (alone.idle_limit_seconds + 3600)
        stale.update(event)
    await alone.save(stale)
    assert texts(await alone.retrieve("stale")) == ["months ago"]

    with alone.engine.begin() as connection:  # what the retention job does to both rows
        connection.execute(sa.text("UPDATE events SET sender_id = 'anon:rest:0'"))
    assert await alone.retrieve("resident") is recent  # in use: served from memory as ever
    assert await alone.retrieve("stale") is None  # idle past the limit: read again, and gone


def event_indexes(engine: sa.engine.Engine) -> Dict[str, List[str]]:
    return {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("events")}


async def test_the_dashboards_time_index_is_made_when_the_store_starts(
    domain: Domain, db: Dict[str, Any], caplog: pytest.LogCaptureFixture
):
    """Also on a store Rasa made before it (an upgrade), once, however many processes start at once."""
    rasas = store(domain, db, SQLTrackerStore)
    await started(rasas, "before the upgrade")
    assert TIME_INDEX not in event_indexes(rasas.engine)  # Rasa indexes sender_id only

    starting = store(domain, db)  # a Rasa server starting with this store (deploy/endpoints.yml)
    assert event_indexes(starting.engine)[TIME_INDEX] == ["type_name", "timestamp"]
    with starting.engine.begin() as connection:
        connection.execute(sa.text(f"DROP INDEX {TIME_INDEX}"))
    with ThreadPoolExecutor(4) as pool:  # processes starting together: none fails, one index
        list(pool.map(lambda _: ensure_time_index(starting.engine, "events"), range(4)))
    again = store(domain, db)
    assert event_indexes(again.engine)[TIME_INDEX] == ["type_name", "timestamp"]
    assert texts(await again.retrieve("resident")) == ["before the upgrade"]
    assert not [r.getMessage() for r in caplog.records if TIME_INDEX in r.getMessage()]  # none failed
    for made in (rasas, starting, again):
        made.engine.dispose()
