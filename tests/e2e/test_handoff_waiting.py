"""A resident waiting for city staff is still heard, against the real running assistant and console.

While a handoff waits in the queue the bot is paused, yet an emergency gets the
911 answer and goes to the top of the queue, "cancel" leaves the queue, the
first other message is acknowledged once, and the wait told follows the queue
and the staff on duty. Residents talk over the REST channel; staff use the console over HTTP.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta
from typing import Any, Dict, List

import pytest
import yaml

from bot.db.engine import Database, utcnow
from bot.db.schema import staff_sessions
from bot.handoff import store
from bot.handoff.waiting import MIN_CONVERSATION, RESIDENT
from bot.process.procs import PROJECT_ROOT
from tests.support.conversation import Conversation
from tests.support.handoff import audit_of, handoff_of
from tests.support.staff import Staff, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]

EMERGENCY = "I smell gas in my kitchen and feel dizzy"
_names = itertools.count(random.randint(100, 999))


def response(name: str) -> str:
    """A response's English text as domain.yml words it (the variation without a language condition)."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    (variation,) = [v for v in domain["responses"][name] if not v.get("condition")]
    return variation["text"]


@pytest.fixture(scope="module")
def cleo(stack, console_url) -> Staff:
    staff = Staff(console_url, f"cleo{next(_names)}")
    make_staff(stack, staff.username)
    assert staff.login().status_code == 303
    return staff


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text", "") for m in messages]


def queued(staff: Staff) -> List[Dict[str, Any]]:
    answer = staff.get("/console/api/queue", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    return [item for item in answer.json()["items"] if item["state"] == store.WAITING]


def waiting_for_staff(stack, db: Database) -> Conversation:
    talk = Conversation(stack.rasa_port)
    talk.text("talk to a person")
    assert handoff_of(db, talk.sender).state == store.WAITING and talk.tracker()["paused"] is True
    return talk


def off_duty_except(db: Database, *present: Staff) -> None:
    """Every console not seen for five minutes (off duty), then the given staff open theirs (on duty)."""
    with db.engine.begin() as connection:
        connection.execute(staff_sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    for staff in present:
        assert staff.get("/console").status_code == 200


def wait_minutes(told: str) -> int:
    """The wait a message gives, in minutes ("about 1 hour 35 minutes" is 95)."""
    match = re.search(r"the wait should be about (?:(\d+) hours?)? ?(?:(\d+|a) minutes?)?\.", told)
    assert match, told
    hours, minutes = match.group(1), match.group(2)
    return int(hours or 0) * 60 + (1 if minutes == "a" else int(minutes or 0))


def test_an_emergency_while_waiting_gets_911_at_once_and_goes_first_in_the_queue(stack, cleo, db):
    fresh = Conversation(stack.rasa_port)
    assert fresh.text(EMERGENCY) == response("utter_emergency")  # the same words outside a handoff
    earlier = waiting_for_staff(stack, db)
    talk = waiting_for_staff(stack, db)
    handoff = handoff_of(db, talk.sender)
    assert [item["id"] for item in queued(cleo)].index(handoff.id) > 0  # someone waits before them

    said = texts(talk.say(EMERGENCY))
    assert said == [response("utter_emergency"), response("utter_handoff_marked_urgent")]
    row = handoff_of(db, talk.sender)
    assert row.state == store.WAITING and row.urgent_at is not None
    assert talk.tracker()["paused"] is True  # still waiting for staff, first in line
    first = queued(cleo)[0]
    assert (first["id"], first["urgent"]) == (handoff.id, True)
    page = cleo.get("/console").text
    waiting_rows = re.findall(r'<tr data-handoff="(\d+)"[^>]*data-state="waiting"[^>]*>(.*?)</tr>', page)
    assert waiting_rows[0][0] == str(handoff.id) and "Urgent: emergency message" in waiting_rows[0][1]
    assert "Urgent" not in dict(waiting_rows)[str(handoff_of(db, earlier.sender).id)]
    assert audit_of(db, handoff.id) == [(RESIDENT, "urgent")]

    assert texts(talk.say(EMERGENCY))[0] == response("utter_emergency")  # every time, audited once
    assert audit_of(db, handoff.id) == [(RESIDENT, "urgent")]
    assert EMERGENCY in cleo.texts(handoff.id, "resident")

    assert cleo.post(f"/console/handoffs/{handoff.id}/claim").status_code == 303
    assert texts(talk.say(EMERGENCY)) == [response("utter_emergency")]  # with staff too, without the queue line
    for conversation in (talk, earlier):
        cleo.post(f"/console/handoffs/{handoff_of(db, conversation.sender).id}/resolve", hand_back="1")


def test_cancel_leaves_the_queue_and_the_bot_answers_again(stack, cleo, db):
    talk = waiting_for_staff(stack, db)
    handoff = handoff_of(db, talk.sender)
    assert texts(talk.say("never mind, cancel")) == [response("utter_handoff_left_queue")]
    row = handoff_of(db, talk.sender)
    assert (row.id, row.state, row.resolved_by, row.handed_back) == (handoff.id, store.RESOLVED, RESIDENT, True)
    assert audit_of(db, handoff.id) == [(RESIDENT, "cancel")]
    assert talk.tracker()["paused"] is False
    assert handoff.id not in [item["id"] for item in queued(cleo)]
    assert "311 assistant" in talk.text("hello")  # the bot answers normally again
    assert "riverton.gov/trash" in talk.text("what day is trash pickup?")
    refused = cleo.post(f"/console/handoffs/{handoff.id}/claim")
    assert refused.status_code == 409 and "no longer waiting" in refused.text


def test_the_first_message_while_waiting_is_acknowledged_once_and_kept_for_staff(stack, cleo, db):
    talk = waiting_for_staff(stack, db)
    handoff = handoff_of(db, talk.sender)
    lines = ["the pothole on Elm Street is getting bigger", "it's outside number 12", "I need to report graffiti"]
    assert texts(talk.say(lines[0])) == [response("utter_handoff_noted")]
    assert talk.say(lines[1]) == [] and talk.say(lines[2]) == []  # not again, and no report started meanwhile
    tracker = talk.tracker()
    assert tracker["paused"] is True and not (tracker.get("active_loop") or {}).get("name")
    assert cleo.texts(handoff.id, "resident")[-3:] == lines
    assert [a for a in audit_of(db, handoff.id)] == []  # nothing for staff to answer for yet
    cleo.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1")


def test_the_wait_told_follows_the_queue_and_the_staff_on_duty(stack, cleo, console_url, db):
    dev = Staff(console_url, f"dev{next(_names)}")
    make_staff(stack, dev.username)
    assert dev.login().status_code == 303
    off_duty_except(db, cleo)
    before = len(queued(cleo))
    residents = [waiting_for_staff(stack, db) for _ in range(3)]
    told = [r.transcript[-1] for r in residents]  # each one's opening message
    for ahead, opening in enumerate(told, start=before):
        place = {0: "You're next, and with", 1: "There is 1 person ahead of you and"}.get(
            ahead, f"There are {ahead} people ahead of you and"
        )
        assert f"{place} 1 staff member on duty" in opening
    last = told[-1]
    waits = [wait_minutes(t) for t in told]
    step = MIN_CONVERSATION.total_seconds() // 60
    assert waits[1] - waits[0] >= step and waits[2] - waits[1] >= step  # one more conversation ahead each
    assert "a minute" not in last

    off_duty_except(db, cleo, dev)  # a second person comes on duty: asking again gives the new wait
    again = residents[-1].text("can I talk to a person please")
    assert "You're in the queue for city staff" in again
    assert f"There are {before + 2} people ahead of you and 2 staff members on duty" in again
    assert wait_minutes(again) < waits[2]

    off_duty_except(db)  # nobody on duty: said honestly, with City Hall's hours
    nobody = residents[-1].text("talk to a human")
    assert (
        "Nobody from city staff is online right now: City Hall is open Monday to Friday, 8:30 AM to 5:00 PM" in nobody
    )
    assert f"({before + 2} people ahead of you)" in nobody and "wait should be" not in nobody

    for resident in residents:
        assert texts(resident.say("cancel")) == [response("utter_handoff_left_queue")]
