"""The console's reads of Rasa's tracker store, on events Rasa's own SQLTrackerStore wrote (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from bench.databases import create_database, drop_database
from bot.channels.identity import sender_id_for
from bot.handoff.tracker_events import TrackerEvents, TrackerUnavailable, conversation_channel, tracker_url
from tests.support.tracker_store import DAY, record, said

POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa.db'}"
        return
    made = create_database(POSTGRES_URL, "citybot_test_tracker_events")
    try:
        yield made
    finally:
        drop_database(POSTGRES_URL, made)


@pytest.fixture
def reader(url: str) -> Iterator[TrackerEvents]:
    events = TrackerEvents(url)
    yield events
    events.dispose()


async def test_conversations_by_date_and_channel_latest_first(url: str, reader: TrackerEvents) -> None:
    sms, whatsapp = sender_id_for("sms", "+15550100"), sender_id_for("whatsapp", "+15550100")
    await record(url, "resident-rest", said("hello", DAY, "rest"), said("again", DAY + timedelta(days=2), "rest"))
    await record(url, sms, said("pothole", DAY + timedelta(hours=3), "twilio"))
    await record(url, whatsapp, said("graffiti", DAY + timedelta(days=1), "twilio"))

    every = await reader.active_between(None, None)
    assert [s.sender_id for s in every] == ["resident-rest", whatsapp, sms]
    rest = every[0]
    assert (rest.channel, rest.messages, rest.first_at, rest.last_at) == ("rest", 2, DAY, DAY + timedelta(days=2))

    first_day = await reader.active_between(DAY, DAY + timedelta(days=1))
    assert [s.sender_id for s in first_day] == [sms, "resident-rest"]
    assert [s.sender_id for s in await reader.active_between(DAY, None, "sms")] == [sms]  # not WhatsApp's Twilio
    assert [s.sender_id for s in await reader.active_between(None, None, "whatsapp")] == [whatsapp]
    assert [s.sender_id for s in await reader.active_between(None, None, "rest")] == ["resident-rest"]
    assert await reader.active_between(None, None, "telegram") == []
    assert len(await reader.active_between(None, None, limit=2)) == 2

    key = rest.key
    assert await reader.sender_of(key) == "resident-rest"
    assert await reader.sender_of(key + 1) is None  # not a resident's message: no conversation's number
    assert (await reader.spans(["resident-rest", "nobody"])).keys() == {"resident-rest"}


async def test_each_residents_latest_typed_message_and_a_mark_that_grows(url: str, reader: TrackerEvents) -> None:
    await record(url, "resident-a", said("my bin was not emptied", DAY, "rest"), said("/request_human", DAY, "rest"))
    await record(url, "resident-b", said("/request_human", DAY, "rest"))
    latest = await reader.latest_messages(["resident-a", "resident-b", "nobody"])
    assert latest.keys() == {"resident-a"}  # a button's payload is not what they wrote
    assert (latest["resident-a"].text, latest["resident-a"].at) == ("my bin was not emptied", DAY)

    mark = await reader.last_message_id(["resident-a", "resident-b"])
    assert mark > 0 and await reader.last_message_id([]) == 0
    await record(url, "resident-b", said("/request_human", DAY, "rest"), said("anyone there?", DAY, "rest"))
    assert await reader.last_message_id(["resident-a", "resident-b"]) > mark
    assert (await reader.latest_messages(["resident-b"]))["resident-b"].text == "anyone there?"


async def test_a_store_not_written_yet_is_unavailable_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "rasa.db"
    reader = TrackerEvents(f"sqlite:///{missing}")
    with pytest.raises(TrackerUnavailable, match="no conversation"):
        await reader.active_between(None, None)
    assert not missing.exists()
    empty = tmp_path / "other.db"
    empty.touch()  # a database without Rasa's table
    with pytest.raises(TrackerUnavailable, match="cannot be read"):
        await TrackerEvents(f"sqlite:///{empty}").latest_messages(["x"])


def test_where_the_store_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKER_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    assert tracker_url() == f"sqlite:///{tmp_path / 'rasa.db'}"  # where `citybot run` puts it
    monkeypatch.setenv("DATABASE_URL", "postgresql://city@db/citybot")
    assert tracker_url() == "postgresql://city@db/citybot"
    monkeypatch.setenv("TRACKER_URL", "sqlite:////srv/rasa.db")
    assert tracker_url() == "sqlite:////srv/rasa.db"


def test_a_conversations_channel() -> None:
    assert conversation_channel(sender_id_for("sms", "+15550100"), "twilio") == "sms"
    assert conversation_channel(sender_id_for("webchat", "session"), "webchat") == "webchat"
    assert conversation_channel("resident-1", "rest") == "rest"
    assert conversation_channel("resident-1", None) == "rest"
    assert conversation_channel("anon:whatsapp:0123456789abcdef01234567", "twilio") == "whatsapp"  # bot/retention
