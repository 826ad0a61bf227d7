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

from actions.conversation import ActionHandleMisunderstanding, ActionHandoffWaiting, ActionRequestHuman
from bot.db.contacts import remember_contact
from bot.db.engine import Database, database, reset_database, utcnow
from bot.db.schema import audit_log, handoffs, staff_sessions, staff_users
from bot.handoff import store
from bot.handoff.service import report_details, transcript
from bot.handoff.waiting import duration_text, expected_wait, opening_message
from bot.i18n.messages import messages
from bot.process.procs import PROJECT_ROOT, venv_bin
from tests.support.databases import own_database

PASSWORD = "correct horse battery"
ENGLISH = messages("en")


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


async def signed_in(username: str, password: str) -> Optional[str]:
    """The account a sign-in attempt signs in as, or None when it is refused."""
    return (await store.sign_in(username, password)).username


async def test_passwords_are_stored_as_argon2id_hashes_and_checked():
    await store.add_staff("Dana", PASSWORD)
    (row,) = rows(staff_users)
    assert row.username == "dana"
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert await signed_in("dana", PASSWORD) == "dana"
    assert await signed_in("DANA ", PASSWORD) == "dana"
    assert await signed_in("dana", PASSWORD + "!") is None
    assert await signed_in("nobody", PASSWORD) is None
    assert await signed_in("dana", "") is None


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
        assert await signed_in("dana", "wrong password!") is None
    assert await signed_in("dana", PASSWORD) is None  # locked, even with the right password
    with database().engine.begin() as connection:
        connection.execute(staff_users.update().values(locked_until=utcnow() - timedelta(seconds=1)))
    assert await signed_in("dana", PASSWORD) == "dana"


async def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions():
    await store.add_staff("dana", PASSWORD)
    token, _ = await store.start_session("dana")
    await store.set_disabled("dana", True)
    assert await signed_in("dana", PASSWORD) is None
    assert await store.session_for(token) is None
    await store.set_disabled("dana", False)
    assert await signed_in("dana", PASSWORD) == "dana"


async def test_a_new_password_ends_every_session():
    await store.add_staff("dana", PASSWORD)
    token, _ = await store.start_session("dana")
    await store.set_password("dana", "a brand new passphrase")
    assert await store.session_for(token) is None
    assert await signed_in("dana", PASSWORD) is None
    assert await signed_in("dana", "a brand new passphrase") == "dana"


# --- roles -----------------------------------------------------------------------------


async def test_accounts_are_agents_unless_made_otherwise():
    assert await store.add_staff("dana", PASSWORD) == "dana"
    assert await store.add_staff("Ada", PASSWORD, role="admin") == "ada"
    await store.add_staff("sam", PASSWORD, role=" Supervisor ")
    for role in ("root", "", "agents"):
        with pytest.raises(store.AccountError, match="a role is one of agent, supervisor, admin"):
            await store.add_staff("eve", PASSWORD, role=role)
    assert await store.get_staff("eve") is None  # nothing was made
    with pytest.raises(store.AccountConflict, match="already exists"):
        await store.add_staff("dana", PASSWORD, role="admin")
    listed = await store.list_staff()
    assert [(a.username, a.role, a.disabled) for a in listed] == [
        ("ada", "admin", False),
        ("dana", "agent", False),
        ("sam", "supervisor", False),
    ]
    assert await store.get_staff("DANA") == listed[1]
    assert await store.get_staff("nobody") is None and await store.get_staff("../etc") is None


async def test_a_session_carries_the_role_read_again_on_every_request():
    await store.add_staff("dana", PASSWORD)
    token, started = await store.start_session("dana")
    assert started.role == "agent" and (await store.session_for(token)).role == "agent"
    assert await store.set_role("dana", "supervisor") == "agent"  # the role it had
    assert (await store.session_for(token)).role == "supervisor"  # the same session, at once
    assert await store.set_role("dana", "agent") == "supervisor"
    assert (await store.session_for(token)).role == "agent"
    with pytest.raises(store.NoAccount):
        await store.set_role("nobody", "admin")
    with pytest.raises(store.AccountError, match="a role is one of"):
        await store.set_role("dana", "owner")


async def test_a_sign_in_is_remembered_as_the_account_s_last():
    await store.add_staff("dana", PASSWORD)
    assert (await store.get_staff("dana")).last_sign_in_at is None
    assert await signed_in("dana", "a wrong password") is None
    assert (await store.get_staff("dana")).last_sign_in_at is None
    before = utcnow()
    assert await signed_in("dana", PASSWORD) == "dana"
    assert before <= (await store.get_staff("dana")).last_sign_in_at <= utcnow()


async def test_a_reset_can_keep_a_disabled_account_disabled():
    await store.add_staff("dana", PASSWORD)
    await store.set_disabled("dana", True)
    await store.set_password("dana", "a brand new passphrase", enable=False)
    assert (await store.get_staff("dana")).disabled
    assert await signed_in("dana", "a brand new passphrase") is None
    await store.set_password("dana", "a brand new passphrase")  # the CLI's passwd enables it again
    assert await signed_in("dana", "a brand new passphrase") == "dana"
    with pytest.raises(store.NoAccount):
        await store.set_password("nobody", "a brand new passphrase")


async def test_the_last_active_admin_can_be_neither_disabled_nor_demoted():
    await store.add_staff("dana", PASSWORD)
    await store.set_disabled("dana", True)  # without any admin, agents come and go as before
    await store.set_disabled("dana", False)
    await store.add_staff("ada", PASSWORD, role="admin")
    token, _ = await store.start_session("ada")
    for change in (store.set_role("ada", "supervisor"), store.set_disabled("ada", True)):
        with pytest.raises(store.AccountConflict, match=r"the last active admin \(ada\)"):
            await change
    assert (await store.get_staff("ada")).role == "admin" and not (await store.get_staff("ada")).disabled
    assert await store.session_for(token) is not None  # nothing happened to her sessions

    await store.add_staff("cy", PASSWORD, role="admin")
    await store.set_disabled("cy", True)  # ada is still active
    with pytest.raises(store.AccountConflict):  # a disabled admin does not count
        await store.set_role("ada", "agent")
    await store.set_disabled("cy", False)
    assert await store.set_role("ada", "agent") == "admin"  # cy is an active admin now
    with pytest.raises(store.AccountConflict, match=r"the last active admin \(cy\)"):
        await store.set_disabled("cy", True)
    assert await store.set_role("cy", "admin") == "admin"  # no change is no loss


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The process-wide database on SQLite (the fresh file) or on a fresh PostgreSQL database."""
    with own_database(request.param, monkeypatch, "citybot_test_roles"):
        yield


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(any_database):
    survivor = None
    for round_ in range(3):
        pair = (f"ada{round_}", f"bo{round_}")
        for name in pair:
            await store.add_staff(name, PASSWORD, role="admin")
        if survivor:
            await store.set_role(survivor, "agent")  # the pair are the only admins
        results = await asyncio.gather(
            store.set_role(pair[0], "agent"), store.set_disabled(pair[1], True), return_exceptions=True
        )
        assert [type(r) for r in results].count(store.AccountConflict) == 1, results
        (survivor,) = [a.username for a in await store.list_staff() if a.role == "admin" and not a.disabled]


# --- sessions -------------------------------------------------------------------------


async def test_sessions_store_only_a_hash_and_expire(monkeypatch):
    await store.add_staff("dana", PASSWORD)
    token, session = await store.start_session("dana")
    (row,) = rows(staff_sessions)
    assert row.token_hash != token and token not in row.token_hash
    assert (await store.session_for(token)).username == "dana"
    assert await store.session_for("not-a-token") is None
    assert await store.session_for(None) is None

    # idle for longer than CONSOLE_SESSION_IDLE_MINUTES
    with database().engine.begin() as connection:
        connection.execute(staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert await store.session_for(token) is None
    assert rows(staff_sessions) == []  # and forgotten

    # past its lifetime, however active
    token, _ = await store.start_session("dana")
    with database().engine.begin() as connection:
        connection.execute(staff_sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)))
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
    nobody = await opening_message(handoff, ENGLISH)
    assert "Nobody from city staff is online right now" in nobody
    assert "Monday to Friday, 8:30 AM to 5:00 PM" in nobody and "200 Main Street" in nobody and "911" in nobody

    await store.add_staff("dana", PASSWORD)
    await store.start_session("dana")
    assert await store.staff_on_duty() == ["dana"]
    first = await opening_message(handoff, ENGLISH)
    assert "member of city staff" in first and "ahead of you" not in first
    assert "You're next, and with 1 staff member on duty the wait should be about 5 minutes." in first
    second, _ = await store.open_handoff("rest-b", "rest", store.ASKED)
    # one person ahead, one on duty: the usual pickup and one usual conversation (10 minutes before any)
    assert (
        "There is 1 person ahead of you and 1 staff member on duty, so the wait should be about 15 minutes."
        in await opening_message(second, ENGLISH)
    )

    # the pickup is learnt from the claims made; dana is busy with the first one
    with database().engine.begin() as connection:
        connection.execute(
            handoffs.update()
            .where(handoffs.c.id == handoff.id)
            .values(state=store.CLAIMED, claimed_by="dana", claimed_at=handoff.created_at + timedelta(minutes=12))
        )
    assert "You're next, and with 1 staff member on duty the wait should be about 22 minutes." in await opening_message(
        second, ENGLISH
    )

    # a console not seen for a while is not on duty
    with database().engine.begin() as connection:
        connection.execute(staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    assert await store.staff_on_duty() == []


def test_the_wait_grows_with_the_queue_and_shrinks_with_the_staff_on_duty():
    pickup, conversation = timedelta(minutes=5), timedelta(minutes=10)
    assert expected_wait(1, 1, 0, pickup, conversation) == pickup
    assert expected_wait(19, 1, 0, pickup, conversation) == timedelta(minutes=185)  # 18 ahead, one person
    assert expected_wait(19, 3, 0, pickup, conversation) == timedelta(minutes=65)
    assert expected_wait(1, 2, 2, pickup, conversation) == timedelta(minutes=15)  # both on duty are busy
    assert [duration_text(timedelta(minutes=m), ENGLISH) for m in (0.2, 1, 7, 22, 60, 187)] == [
        "a minute",
        "a minute",
        "7 minutes",
        "22 minutes",
        "1 hour",
        "3 hours 5 minutes",
    ]


async def test_eighteen_ahead_is_never_about_a_minute():
    for number in range(19):
        last, _ = await store.open_handoff(f"rest-{number}", "rest", store.ASKED)
    await store.add_staff("dana", PASSWORD)
    await store.start_session("dana")
    told = await opening_message(last, ENGLISH)
    assert "There are 18 people ahead of you and 1 staff member on duty" in told
    assert "about 3 hours 5 minutes" in told and "a minute" not in told
    await store.add_staff("eli", PASSWORD)
    await store.start_session("eli")
    assert "18 people ahead of you and 2 staff members on duty, so the wait should be about 1 hour 35 minutes" in (
        await opening_message(last, ENGLISH)
    )

    with database().engine.begin() as connection:  # nobody on duty: said so, with the place in the queue
        connection.execute(staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    nobody = await opening_message(last, ENGLISH)
    assert "Nobody from city staff is online right now: City Hall is open Monday to Friday" in nobody
    assert "(18 people ahead of you)" in nobody and "wait should be" not in nobody


async def test_an_urgent_handoff_goes_first_and_is_marked_once():
    a, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    b, _ = await store.open_handoff("rest-b", "rest", store.ASKED)
    c, _ = await store.open_handoff("rest-c", "rest", store.ASKED)
    assert await store.mark_urgent(c.id) and not await store.mark_urgent(c.id)
    assert [h.id for h in await store.open_handoffs()] == [c.id, a.id, b.id]
    assert [await store.queue_position(h.id) for h in (c, a, b)] == [1, 2, 3]
    assert await store.mark_urgent(b.id)  # a later emergency comes after the earlier one
    assert [h.id for h in await store.open_handoffs()] == [c.id, b.id, a.id]
    assert (await store.get_handoff(c.id)).as_json()["urgent"] is True
    assert (await store.get_handoff(a.id)).as_json()["urgent"] is False


async def test_leaving_the_queue_and_the_first_message_note_happen_once():
    a, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    assert await store.note_first_message(a.id) and not await store.note_first_message(a.id)
    assert await store.leave_queue(a.id, "(resident)") and not await store.leave_queue(a.id, "(resident)")
    left = await store.get_handoff(a.id)
    assert (left.state, left.resolved_by, left.handed_back) == (store.RESOLVED, "(resident)", True)
    b, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    await store.claim(b.id, "dana")
    assert not await store.leave_queue(b.id, "(resident)")  # staff have it: not the resident's to cancel


def test_a_handoffs_table_from_before_urgent_flags_gets_the_new_columns(fresh_database):
    reset_database()
    url = f"sqlite:///{fresh_database / 'old.db'}"
    old = sa.create_engine(url)
    with old.begin() as connection:  # the table as the previous version made it
        connection.execute(
            sa.text(
                "CREATE TABLE handoffs (id INTEGER PRIMARY KEY, sender_id VARCHAR(128) NOT NULL,"
                " channel VARCHAR(32) NOT NULL, reason VARCHAR(32) NOT NULL, state VARCHAR(16) NOT NULL,"
                " created_at DATETIME NOT NULL,"
                " updated_at DATETIME NOT NULL, claimed_by VARCHAR(64), claimed_at DATETIME, resolved_by VARCHAR(64),"
                " resolved_at DATETIME, handed_back BOOLEAN)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO handoffs (sender_id, channel, reason, state, created_at, updated_at)"
                " VALUES ('rest-old', 'rest', 'asked', 'waiting', '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
            )
        )
    old.dispose()
    migrated = Database(url)
    try:
        columns = {c["name"] for c in sa.inspect(migrated.engine).get_columns("handoffs")}
        assert {"urgent_at", "noted_at"} <= columns
        with migrated.engine.connect() as connection:
            (row,) = connection.execute(sa.select(handoffs)).all()
        assert store.Handoff.from_row(row).urgent is False
        Database(url).dispose()  # a second start finds nothing to add
    finally:
        migrated.dispose()


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
        {
            "event": "bot",
            "text": "How big is it?",
            "timestamp": 3.0,
            "data": {"buttons": [{"title": "small", "payload": "small"}]},
        },
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
        {
            "event": "user",
            "text": "x",
            "parse_data": {"intent": {"name": name, "confidence": 0.9}},
            "input_channel": channel,
        }
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
        "telegram-abc",
        "telegram",
        store.ASKED,
        store.WAITING,
    )

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


async def test_without_a_database_an_emergency_while_waiting_still_gets_911(monkeypatch):
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(store, "open_handoff_for", broken)
    messages, events = await run(ActionHandoffWaiting(), tracker("rest-1", ["request_human", "emergency"]))
    assert events == [] and [m["response"] for m in messages] == ["utter_emergency"]
    messages, events = await run(ActionHandoffWaiting(), tracker("rest-1", ["request_human", "greet"]))
    assert (messages, events) == ([], [])


# --- the command line -------------------------------------------------------------------


def citybot(*args: str, stdin: str = "", env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_bin("citybot"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_staff_accounts_are_made_from_the_command_line(fresh_database):
    made = citybot("staff", "add", "ana", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "ana" in made.stdout and PASSWORD not in made.stdout + made.stderr
    assert asyncio.run(signed_in("ana", PASSWORD)) == "ana"
    again = citybot("staff", "add", "ana", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = citybot("staff", "add", "bo", stdin="short\n")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    assert citybot("staff", "passwd", "ana", stdin="another long passphrase\n").returncode == 0
    assert asyncio.run(signed_in("ana", "another long passphrase")) == "ana"
    assert citybot("staff", "disable", "ana").returncode == 0
    listed = citybot("staff", "list")
    assert "ana\tdisabled\tagent\tcreated " in listed.stdout  # an agent unless said otherwise
    actions = [(r.actor, r.action, r.detail) for r in rows(audit_log)]
    assert ("(cli)", "staff_add", "ana as agent") in actions and ("(cli)", "staff_disable", "ana") in actions


def test_the_first_admin_and_roles_come_from_the_command_line(fresh_database):
    made = citybot("staff", "add", "root", "--role", "admin", stdin=PASSWORD + "\n")
    assert made.returncode == 0 and "root (admin) created" in made.stdout, made.stderr
    assert citybot("staff", "add", "sam", "--role", "owner", stdin=PASSWORD + "\n").returncode == 2  # argparse
    assert citybot("staff", "add", "dana", stdin=PASSWORD + "\n").returncode == 0
    promoted = citybot("staff", "role", "dana", "supervisor")
    assert promoted.returncode == 0 and "dana is now supervisor" in promoted.stdout
    last = citybot("staff", "role", "root", "agent")
    assert last.returncode == 1 and "the last active admin (root) can be neither disabled nor demoted" in last.stderr
    assert citybot("staff", "disable", "root").returncode == 1
    unknown = citybot("staff", "role", "nobody", "admin")
    assert unknown.returncode == 1 and "no staff account 'nobody'" in unknown.stderr
    asyncio.run(signed_in("root", PASSWORD))
    lines = sorted(citybot("staff", "list").stdout.splitlines())
    assert [line.split("\t")[:3] for line in lines] == [["dana", "active", "supervisor"], ["root", "active", "admin"]]
    assert lines[0].endswith("last sign-in never") and "last sign-in never" not in lines[1]
    actions = [(r.actor, r.action, r.detail) for r in rows(audit_log)]
    assert actions == [
        ("(cli)", "staff_add", "root as admin"),
        ("(cli)", "staff_add", "dana as agent"),
        ("(cli)", "staff_role", "dana: agent -> supervisor"),
    ]  # refused changes are not audited
