"""CachedSQLTrackerStore: what Rasa's SQL tracker store stores and reads, without re-reading it all.

Two stores on one database stand for two Rasa processes.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import CachedSQLTrackerStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "rasa.db")


def store(domain: Domain, db: str, kind: type = CachedSQLTrackerStore) -> SQLTrackerStore:
    return kind(domain=domain, dialect="sqlite", db=db)


def exchange(text: str) -> List[Event]:
    return [
        UserUttered(text, intent={"name": "faq", "confidence": 1.0}),
        ActionExecuted("utter_faq"),
        BotUttered(f"answer to {text}"),
        ActionExecuted("action_listen"),
    ]


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


async def test_a_conversation_goes_on_across_two_processes(domain: Domain, db: str):
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


async def test_a_turn_that_was_never_saved_is_not_kept(domain: Domain, db: str):
    tracker_store = store(domain, db)
    tracker = await started(tracker_store, "saved")
    assert await tracker_store.retrieve("resident") is tracker
    for event in exchange("lost in a crash"):
        tracker.update(event)  # the turn fails before it is saved

    again = await tracker_store.retrieve("resident")
    assert texts(again) == ["saved"]
    assert again is not tracker


async def test_a_new_session_reads_like_rasas_store(domain: Domain, db: str):
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


async def test_an_unknown_conversation_is_none(domain: Domain, db: str):
    assert await store(domain, db).retrieve("nobody") is None
