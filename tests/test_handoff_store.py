"""Live handoff without the running assistant: the store, the resident's messages, the action, the CLI.

Each test gets its own SQLite database (CITYBOT_VAR_DIR in a temporary folder).
"""
from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import timedelta
from typing import Any, Dict, List, Optional

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleMisunderstanding, ActionRequestHuman
from bot.handoff import store
from bot.handoff.service import opening_message, report_details, transcript
from bot.procs import PROJECT_ROOT, venv_bin
from bot.storage import database, remember_contact, reset_database, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield tmp_path
    reset_database()


def rows(table: sa.Table, *where: Any) -> List[Any]:
    with database().engine.connect() as connection:
        return connection.execute(sa.select(table).where(*where)).all()


# --- accounts and passwords -----------------------------------------------------------


async def test_passwords_are_stored_as_argon2id_hashes_and_checked():
    await store.add_staff("Dana", PASSWORD)
    (row,) = rows(store.staff_users)
    assert row.username == "dana"
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert await store.check_login("dana", PASSWORD) == "dana"
    assert await store.check_login("DANA ", PASSWORD) == "dana"
    assert await store.check_login("dana", PASSWORD + "!") is None
    assert await store.check_login("nobody", PASSWORD) is None
    assert await store.check_login("dana", "") is None


async def test_weak_passwords_bad_names_and_duplicates_are_refused():
    with pytest.raises(store.AccountError, match="at least 10"):
        await store.add_staff("dana", "short")
    for name in ("", "a", "has space", "../etc", "x" * 65):
        with pytest.raises(store.AccountError, match="username"):
            await store.add_staff(name, PASSWORD)
    await store.add_staff("dana", PASSWORD)
    with pytest.raises(store.AccountError, match="already exists"):
        await store.add_staff("dana", PASSWORD)


async def test_five_wrong_passwords_lock_the_account_for_a_while():
    await store.add_staff("dana", PASSWORD)
    for _ in range(store.MAX_FAILED_LOGINS):
        assert await store.check_login("dana", "wrong password!") is None
    assert await store.check_login("dana", PASSWORD) is None  # locked, even with the right password
    with database().engine.begin() as connection:
        connection.execute(store.staff_users.update().values(locked_until=utcnow() - timedelta(seconds=1)))
    assert await store.check_login("dana", PASSWORD) == "dana"


async def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions():
    await store.add_staff("dana", PASSWORD)
    token, _ = await store.start_session("dana")
    await store.set_disabled("dana", True)
    assert await store.check_login("dana", PASSWORD) is None
    assert await store.session_for(token) is None
    await store.set_disabled("dana", False)
    assert await store.check_login("dana", PASSWORD) == "dana"


async def test_a_new_password_ends_every_session():
    await store.add_staff("dana", PASSWORD)
    token, _ = await store.start_session("dana")
    await store.set_password("dana", "a brand new passphrase")
    assert await store.session_for(token) is None
    assert await store.check_login("dana", PASSWORD) is None
    assert await store.check_login("dana", "a brand new passphrase") == "dana"


# --- sessions -------------------------------------------------------------------------


async def test_sessions_store_only_a_hash_and_expire(monkeypatch):
    await store.add_staff("dana", PASSWORD)
    token, session = await store.start_session("dana")
    (row,) = rows(store.staff_sessions)
    assert row.token_hash != token and token not in row.token_hash
    assert (await store.session_for(token)).username == "dana"
    assert await store.session_for("not-a-token") is None
    assert await store.session_for(None) is None

    # idle for longer than CONSOLE_SESSION_IDLE_MINUTES
    with database().engine.begin() as connection:
        connection.execute(store.staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert await store.session_for(token) is None
    assert rows(store.staff_sessions) == []  # and forgotten

    # past its lifetime, however active
    token, _ = await store.start_session("dana")
    with database().engine.begin() as connection:
        connection.execute(store.staff_sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await store.session_for(token) is None

    monkeypatch.setenv("CONSOLE_SESSION_HOURS", "2")
    token, session = await store.start_session("dana")
    assert timedelta(hours=1, minutes=59) < session.expires_at - utcnow() <= timedelta(hours=2)


# --- handoffs -------------------------------------------------------------------------


async def test_a_conversation_has_one_open_handoff_at_a_time():
    first, created = await store.open_handoff("webchat-abc", "webchat", store.ASKED)
    again, created_again = await store.open_handoff("webchat-abc", "webchat", store.ASKED)
    assert created and not created_again and again.id == first.id and first.state == store.WAITING
    assert await store.resolve(first.id, "dana", handed_back=True)
    later, created_later = await store.open_handoff("webchat-abc", "webchat", store.MISUNDERSTOOD)
    assert created_later and later.id != first.id


async def test_only_one_of_many_simultaneous_claims_wins():
    handoff, _ = await store.open_handoff("sms-abc", "sms", store.ASKED)
    names = [f"staff{i}" for i in range(8)]
    results = await asyncio.gather(*(store.claim(handoff.id, name) for name in names))
    assert sorted(results) == [False] * 7 + [True]
    winner = names[results.index(True)]
    claimed = await store.get_handoff(handoff.id)
    assert claimed.state == store.CLAIMED and claimed.claimed_by == winner
    assert not await store.claim(handoff.id, "latecomer")
    assert not await store.resolve(handoff.id, "latecomer", handed_back=True)  # only the holder resolves
    assert not await store.unclaim(handoff.id, "latecomer")
    assert await store.unclaim(handoff.id, winner)
    assert (await store.get_handoff(handoff.id)).state == store.WAITING


async def test_the_queue_lists_waiting_conversations_longest_waiting_first():
    a, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    b, _ = await store.open_handoff("rest-b", "rest", store.ASKED)
    c, _ = await store.open_handoff("rest-c", "rest", store.ASKED)
    await store.claim(a.id, "dana")
    assert [h.id for h in await store.open_handoffs()] == [b.id, c.id, a.id]
    assert await store.queue_position(b.id) == 1 and await store.queue_position(c.id) == 2
    assert await store.queue_position(a.id) == 0


async def test_the_resident_is_told_the_wait_or_city_hall_hours():
    handoff, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    nobody = await opening_message(handoff)
    assert "Nobody from city staff is online right now" in nobody
    assert "Monday to Friday, 8:30 AM to 5:00 PM" in nobody and "200 Main Street" in nobody and "911" in nobody

    await store.add_staff("dana", PASSWORD)
    await store.start_session("dana")
    assert await store.staff_on_duty() == ["dana"]
    first = await opening_message(handoff)
    assert "member of city staff" in first and "usually about 5 minutes" in first and "ahead of you" not in first
    second, _ = await store.open_handoff("rest-b", "rest", store.ASKED)
    assert "There is 1 person ahead of you." in await opening_message(second)

    # the wait is learnt from the claims made
    with database().engine.begin() as connection:
        connection.execute(
            store.handoffs.update()
            .where(store.handoffs.c.id == handoff.id)
            .values(state=store.CLAIMED, claimed_by="dana", claimed_at=handoff.created_at + timedelta(minutes=12))
        )
    assert "usually about 12 minutes" in await opening_message(second)

    # a console not seen for a while is not on duty
    with database().engine.begin() as connection:
        connection.execute(store.staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    assert await store.staff_on_duty() == []


async def test_the_audit_log_keeps_who_did_what_and_when():
    before = utcnow()
    await store.audit("dana", "claim", 7)
    await store.audit("dana", "file", 7, "POTHOLE R-ABCDE filed")
    entries = await store.audit_entries(7)
    assert [(e["actor"], e["action"], e["detail"]) for e in entries] == [
        ("dana", "file", "POTHOLE R-ABCDE filed"),
        ("dana", "claim", None),
    ]
    assert all(e["at"] >= before for e in entries)


# --- reading Rasa's tracker -------------------------------------------------------------


TRACKER = {
    "paused": True,
    "slots": {"service_code": "POTHOLE", "attributes": {"size": "large"}, "location": None, "request_id": "9"},
    "events": [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "user", "text": "I want to report a pothole", "timestamp": 2.0},
        {"event": "bot", "text": "How big is it?", "timestamp": 3.0,
         "data": {"buttons": [{"title": "small", "payload": "small"}]}},
        {"event": "user", "text": "talk to a person", "timestamp": 4.0},
        {"event": "bot", "text": "Of course.", "timestamp": 5.0},
        {"event": "pause", "timestamp": 5.1},
        {"event": "user", "text": "hello?", "timestamp": 6.0},
        {"event": "bot", "text": "Hi, Ana here.", "timestamp": 7.0, "metadata": {"staff": "ana", "handoff": 1}},
    ],
}


def test_the_transcript_shows_resident_assistant_and_staff_turns_in_order():
    turns = transcript(TRACKER)
    assert [(t.who, t.text) for t in turns] == [
        ("resident", "I want to report a pothole"),
        ("assistant", "How big is it?"),
        ("resident", "talk to a person"),
        ("assistant", "Of course."),
        ("event", "The assistant paused: city staff are in charge."),
        ("resident", "hello?"),
        ("staff", "Hi, Ana here."),
    ]
    assert turns[1].buttons == ["small"] and turns[-1].staff == "ana"
    assert [t.index for t in transcript(TRACKER, after=5)] == [6, 7]
    assert report_details(TRACKER) == {"service_code": "POTHOLE", "attributes": {"size": "large"}}


# --- the action -----------------------------------------------------------------------


def tracker(sender: str, intents: List[str], text: str = "talk to a person", channel: str = "rest") -> Tracker:
    events: List[Dict[str, Any]] = [
        {"event": "user", "text": "x", "parse_data": {"intent": {"name": name, "confidence": 0.9}},
         "input_channel": channel}
        for name in intents
    ]
    latest = {"text": text, "intent": {"name": intents[-1], "confidence": 0.95}, "entities": []}
    return Tracker(sender, {"service_code": "POTHOLE"}, latest, events, False, None, {}, "action_listen")


async def run(action: Any, tr: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tr, {})
    return dispatcher.messages, events


async def test_asking_for_a_person_opens_a_handoff_and_pauses_the_bot():
    await remember_contact("telegram-abc", "telegram", "5000000001")
    messages, events = await run(ActionRequestHuman(), tracker("telegram-abc", ["greet", "request_human"]))
    assert events == [{"event": "pause", "timestamp": None}]
    assert "Nobody from city staff is online" in messages[0]["text"]
    (handoff,) = await store.open_handoffs()
    assert (handoff.sender_id, handoff.channel, handoff.reason, handoff.state) == (
        "telegram-abc", "telegram", store.ASKED, store.WAITING)

    # asking again while waiting keeps the one handoff
    messages, events = await run(ActionRequestHuman(), tracker("telegram-abc", ["greet", "request_human"]))
    assert len(await store.open_handoffs()) == 1 and events[0]["event"] == "pause"


async def test_a_person_after_misunderstandings_is_queued_with_that_reason():
    twice = tracker("rest-xyz", ["out_of_scope", "nlu_fallback"], text="blah")
    messages, _ = await run(ActionHandleMisunderstanding(), twice)
    assert messages[0]["buttons"][0]["payload"] == "/request_human"  # the offer is unchanged
    messages, events = await run(
        ActionRequestHuman(), tracker("rest-xyz", ["out_of_scope", "nlu_fallback", "request_human"], "/request_human")
    )
    (handoff,) = await store.open_handoffs()
    assert handoff.reason == store.MISUNDERSTOOD and handoff.channel == "rest"
    assert handoff.reason_text == "Not understood by the assistant"


async def test_without_a_database_the_resident_still_gets_the_city_contacts(monkeypatch):
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(store, "open_handoff", broken)
    messages, events = await run(ActionRequestHuman(), tracker("rest-1", ["request_human"]))
    assert events == [] and "(555) 010-0311" in messages[0]["text"] and "200 Main Street" in messages[0]["text"]


# --- the command line -------------------------------------------------------------------


def citybot(*args: str, stdin: str = "", env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_bin("citybot"), *args], input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})}, timeout=120,
    )


def test_staff_accounts_are_made_from_the_command_line(fresh_database):
    made = citybot("staff", "add", "ana", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "ana" in made.stdout and PASSWORD not in made.stdout + made.stderr
    assert asyncio.run(store.check_login("ana", PASSWORD)) == "ana"
    again = citybot("staff", "add", "ana", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = citybot("staff", "add", "bo", stdin="short\n")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    assert citybot("staff", "passwd", "ana", stdin="another long passphrase\n").returncode == 0
    assert asyncio.run(store.check_login("ana", "another long passphrase")) == "ana"
    assert citybot("staff", "disable", "ana").returncode == 0
    listed = citybot("staff", "list")
    assert "ana\tdisabled" in listed.stdout
    actions = [(r.actor, r.action, r.detail) for r in rows(store.audit_log)]
    assert ("(cli)", "staff_add", "ana") in actions and ("(cli)", "staff_disable", "ana") in actions
