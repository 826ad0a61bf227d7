"""Live handoff to city staff against the real running assistant and staff console.

Residents talk over the REST channel, Telegram and SMS (at the HTTP boundary:
updates and signed webhooks in, the fake clouds' recorded sendMessage and
Messages.json out) and the web chat in chromium; staff use the console over
HTTP and, side by side with the resident, in a second browser context.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
import uuid
from datetime import timedelta
from typing import Any, Dict, List

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from twilio.request_validator import RequestValidator

from bot.channels.identity import sender_id_for
from bot.db.engine import utcnow
from bot.db.schema import audit_log, staff_sessions
from bot.handoff import store
from bot.handoff.service import CLOSED, HANDED_BACK, JOINED, notice
from bot.i18n.messages import messages
from tests.support.browser import describe, screenshot, serious_violations
from tests.support.conversation import Conversation
from tests.support.fake_cloud import FakeCloud
from tests.support.handoff import audit_of, handoff_of
from tests.support.stack import TELEGRAM_SECRET, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER
from tests.support.staff import PASSWORD, Staff, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]

NOTED = "city staff will see this message when they join"  # utter_handoff_noted
REPLY_TIMEOUT = 60_000
_names = itertools.count(random.randint(100, 999))


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def ana(stack, console_url) -> Staff:
    staff = Staff(console_url, f"ana{next(_names)}")
    make_staff(stack, staff.username)
    assert staff.login().status_code == 303
    return staff


@pytest.fixture(scope="module")
def ben(stack, console_url) -> Staff:
    staff = Staff(console_url, f"ben{next(_names)}")
    make_staff(stack, staff.username)
    assert staff.login().status_code == 303
    return staff


def wait_until(check, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout}s")


def staff_reply(text: str, language: str = "en") -> str:
    """A staff reply as SMS and Telegram residents read it."""
    return messages(language).text("handoff.staff_reply", text=text)


def staff_events(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [e for e in tracker["events"] if e.get("event") == "bot" and (e.get("metadata") or {}).get("staff")]


# --- sign-in, sessions and CSRF -------------------------------------------------------------


def test_pages_without_a_session_send_you_to_the_sign_in(console_url):
    anonymous = httpx.Client(base_url=console_url, timeout=10)
    for path in ("/console", "/console/audit", "/console/handoffs/1", "/console/stream", "/console/handoffs/1/stream"):
        answer = anonymous.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/console/login?next={path}", path
    claim = anonymous.post("/console/handoffs/1/claim", data={"csrf_token": "x"})
    assert claim.status_code == 303 and claim.headers["location"].startswith("/console/login")
    api = anonymous.get("/console/api/queue", headers={"Accept": "application/json"})
    assert api.status_code == 401
    sign_in = anonymous.get("/console/login")
    assert sign_in.status_code == 200 and '<label for="password">Password</label>' in sign_in.text
    assert "default-src 'self'" in sign_in.headers["content-security-policy"]
    assert sign_in.headers["x-frame-options"] == "DENY"
    cookie = sign_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert anonymous.get("/console/static/console.js").status_code == 200
    assert anonymous.get("/console/static/pages.py").status_code == 404


def test_a_wrong_password_is_refused_and_audited(stack, console_url, db):
    name = f"carla{next(_names)}"
    make_staff(stack, name)
    staff = Staff(console_url, name)
    refused = staff.login("not the password")
    assert refused.status_code == 401 and "Wrong username or password" in refused.text
    assert not [c for c in refused.headers.get_list("set-cookie") if c.startswith("citybot_console=")]
    assert staff.get("/console").status_code == 303  # still signed out
    unknown = Staff(console_url, f"nobody{next(_names)}").login(PASSWORD)
    assert unknown.status_code == 401 and "Wrong username or password" in unknown.text  # the same answer
    with db.engine.connect() as connection:
        failed = connection.execute(
            sa.select(audit_log).where(audit_log.c.actor == name, audit_log.c.action == "login_failed")
        ).all()
    assert len(failed) == 1
    assert staff.login().status_code == 303
    assert staff.get("/console").status_code == 200


def test_the_sign_in_form_needs_its_own_token(console_url):
    client = httpx.Client(base_url=console_url, timeout=10)
    client.get("/console/login")
    answer = client.post("/console/login", data={"username": "ana", "password": PASSWORD})
    assert answer.status_code == 403
    forged = client.post("/console/login", data={"login_token": "forged", "username": "ana", "password": PASSWORD})
    assert forged.status_code == 403


def test_a_form_without_its_csrf_token_is_refused_with_403(stack, ana, db):
    talk = Conversation(stack.rasa_port)
    talk.text("I want to talk to a real person")
    handoff = handoff_of(db, talk.sender)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "wrong-token"}):
        answer = ana.client.post(f"/console/handoffs/{handoff.id}/claim", data=data)
        assert answer.status_code == 403, data
    fetched = ana.client.post(f"/console/handoffs/{handoff.id}/claim", headers={"Accept": "application/json"})
    assert fetched.status_code == 403 and "CSRF" in fetched.json()["error"]
    assert ana.client.post("/console/logout").status_code == 403
    assert handoff_of(db, talk.sender).state == store.WAITING  # nothing happened
    assert audit_of(db, handoff.id) == []
    # the header works as well as the field (the page's script uses it)
    ok = ana.client.post(f"/console/handoffs/{handoff.id}/claim", headers={"X-CSRF-Token": ana.csrf})
    assert ok.status_code == 303
    ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1")


def test_sessions_expire_and_signing_out_ends_them(stack, console_url, db):
    name = f"dora{next(_names)}"
    make_staff(stack, name)
    staff = Staff(console_url, name)
    assert staff.login().status_code == 303
    with db.engine.begin() as connection:
        connection.execute(
            staff_sessions.update()
            .where(staff_sessions.c.username == name)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = staff.get("/console")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/console/login")

    assert staff.login().status_code == 303
    with db.engine.begin() as connection:  # idle for longer than CONSOLE_SESSION_IDLE_MINUTES
        connection.execute(
            staff_sessions.update()
            .where(staff_sessions.c.username == name)
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    assert staff.get("/console").status_code == 303

    assert staff.login().status_code == 303
    out = staff.post("/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login?done=signed_out"
    assert staff.get("/console").status_code == 303
    with db.engine.connect() as connection:
        actions = connection.execute(sa.select(audit_log.c.action).where(audit_log.c.actor == name)).scalars().all()
    assert actions.count("login") == 3 and "logout" in actions


# --- the whole handoff over the REST channel ----------------------------------------------


def test_a_person_takes_over_until_resolved_and_the_bot_stays_silent(stack, ana, ben, db):
    talk = Conversation(stack.rasa_port)
    assert "311 assistant" in talk.text("hello")
    assert ana.get("/console").status_code == 200  # ana's console is open: she is on duty
    reply = talk.text("I want to talk to a real person")
    assert "city staff" in reply and "(555) 010-0311" in reply and "911" in reply
    assert "on duty" in reply and "wait should be about" in reply  # ana and ben are signed in: the wait is given
    handoff = handoff_of(db, talk.sender)
    assert (handoff.state, handoff.reason, handoff.channel) == (store.WAITING, store.ASKED, "rest")
    assert talk.tracker()["paused"] is True

    secret = f"my neighbour's dog {uuid.uuid4().hex[:6]} barks all night"
    assert NOTED in talk.text(secret)  # recorded; the first message while waiting is acknowledged

    queue = ana.get("/console").text
    assert f'data-handoff="{handoff.id}"' in queue and "Asked for a person" in queue and "REST API" in queue
    seen = ana.conversation(handoff.id)
    assert seen["handoff"]["state"] == store.WAITING and seen["paused"] is True
    assert ["hello", "I want to talk to a real person", secret] == [
        t["text"] for t in seen["turns"] if t["who"] == "resident"
    ]
    assert any("311 assistant" in t["text"] for t in seen["turns"] if t["who"] == "assistant")  # bot turns too

    claimed = ana.post(f"/console/handoffs/{handoff.id}/claim")
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/console/handoffs/{handoff.id}?done=claimed"
    second = ben.post(f"/console/handoffs/{handoff.id}/claim")
    assert second.status_code == 409 and f"already claimed by {ana.username}" in second.text
    assert ben.post(f"/console/handoffs/{handoff.id}/reply", text="me too").status_code == 409
    assert ben.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 409
    row = handoff_of(db, talk.sender)
    assert (row.state, row.claimed_by) == (store.CLAIMED, ana.username)

    answer = ana.post(f"/console/handoffs/{handoff.id}/reply", text="Hello, this is Ana from the city.")
    assert answer.status_code == 200 and "not delivered" in answer.text  # REST has no channel to push to
    (staff_said,) = staff_events(talk.tracker())
    assert staff_said["text"] == "Hello, this is Ana from the city."
    assert staff_said["metadata"]["staff"] == ana.username

    assert talk.say("thanks, it is at 14 Oak Street") == []
    assert "thanks, it is at 14 Oak Street" in ana.texts(handoff.id, "resident")
    assert (
        ana.post(
            f"/console/handoffs/{handoff.id}/note", text="Noise complaint, refer to police non-emergency"
        ).status_code
        == 303
    )
    assert ben.post(f"/console/handoffs/{handoff.id}/note", text="Seen this address before").status_code == 303
    assert [n["author"] for n in ana.conversation(handoff.id)["notes"]] == [ana.username, ben.username]
    assert "Noise complaint" not in json.dumps(talk.tracker())  # notes stay private

    assert ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303
    row = handoff_of(db, talk.sender)
    assert (row.state, row.resolved_by, row.handed_back) == (store.RESOLVED, ana.username, True)
    tracker = talk.tracker()
    assert tracker["paused"] is False
    assert notice(HANDED_BACK, "en") in [e.get("text") for e in tracker["events"] if e.get("event") == "bot"]
    assert "311 assistant" in talk.text("hello")  # the bot answers again
    assert "Goodbye" in talk.text("bye")

    assert audit_of(db, handoff.id) == [
        (ana.username, "claim"),
        (ana.username, "reply"),
        (ana.username, "note"),
        (ben.username, "note"),
        (ana.username, "resolve"),
    ]
    audit_page = ana.get("/console/audit").text
    assert f"#{handoff.id}" in audit_page and "resolve" in audit_page

    logs = (stack.var_dir / "logs" / "console.log").read_text() + (stack.var_dir / "logs" / "rasa.log").read_text()
    assert secret not in logs and "14 Oak Street" not in logs and "Noise complaint" not in logs


def test_two_misunderstandings_then_a_person(stack, ana, db):
    talk = Conversation(stack.rasa_port)
    talk.text("can you recommend a good pasta recipe")
    offer = talk.say("what's the best phone to buy this year")
    assert any(b["payload"] == "/request_human" for m in offer for b in m.get("buttons", []))
    assert "city staff" in talk.text("/request_human")
    handoff = handoff_of(db, talk.sender)
    assert handoff.reason == store.MISUNDERSTOOD and handoff.state == store.WAITING
    assert "Not understood by the assistant" in ana.get("/console").text
    assert NOTED in talk.text("hello?")
    assert talk.say("anyone there?") == []  # acknowledged once only
    # resolved without claiming (e.g. a resident who found the answer): the bot is back
    assert ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303
    assert "311 assistant" in talk.text("hello")


def test_staff_pick_up_a_conversation_on_their_own(stack, ana, ben, db):
    talk = Conversation(stack.rasa_port)
    assert "311 assistant" in talk.text("hello")
    taken = ana.post("/console/take-over", conversation=talk.sender)
    assert taken.status_code == 303
    handoff = handoff_of(db, talk.sender)
    assert taken.headers["location"] == f"/console/handoffs/{handoff.id}?done=taken"
    assert (handoff.state, handoff.reason, handoff.claimed_by) == (store.CLAIMED, store.STAFF, ana.username)
    assert talk.tracker()["paused"] is True
    assert talk.say("what day is trash pickup?") == []
    assert "what day is trash pickup?" in ana.texts(handoff.id, "resident")
    assert ben.post("/console/take-over", conversation=talk.sender).status_code == 409  # already in hand
    assert ana.post("/console/take-over", conversation="no-such-conversation-x").status_code == 404
    assert ana.post(f"/console/handoffs/{handoff.id}/resolve").status_code == 303  # closed, not handed back
    tracker = talk.tracker()
    assert tracker["paused"] is False and notice(CLOSED, "en") in [e.get("text") for e in tracker["events"]]
    assert "riverton.gov/trash" in talk.text("what day is trash pickup?")
    assert audit_of(db, handoff.id) == [(ana.username, "take_over"), (ana.username, "resolve")]


def test_staff_correct_and_file_the_report_the_bot_collected(stack, ana, db):
    talk = Conversation(stack.rasa_port)
    assert "How big is it?" in talk.text("I need to report a pothole")
    talk.text("it's a big one")
    talk.text("bike lane")
    assert "city staff" in talk.text("talk to a person")
    handoff = handoff_of(db, talk.sender)
    ana.post(f"/console/handoffs/{handoff.id}/claim")
    details = ana.conversation(handoff.id)["details"]
    assert details["service_code"] == "POTHOLE" and details["attributes"]["size"].startswith("large")
    page = ana.get(f"/console/handoffs/{handoff.id}").text
    assert "File a service request" in page and "How big is it?" in page and 'name="attr:size"' in page

    street = f"{random.randint(100, 999)} Elm Street"
    incomplete = ana.post(f"/console/handoffs/{handoff.id}/file", service_code="POTHOLE", description="deep")
    assert incomplete.status_code == 400 and "location" in incomplete.text
    filed = ana.post(
        f"/console/handoffs/{handoff.id}/file",
        service_code="POTHOLE",
        **{"attr:size": details["attributes"]["size"], "attr:lane": "traffic lane"},  # corrected from "bike lane"
        location=street,
        description="Deep pothole, reported by phone to staff",
        contact="anonymous",
    )
    assert filed.status_code == 303, filed.text
    confirmation = wait_until(
        lambda: [e for e in staff_events(talk.tracker()) if "request number" in e["text"]],
        what="the confirmation in the transcript",
    )[0]
    number = re.search(r"request number is (\w+)", confirmation["text"]).group(1)
    request = httpx.get(f"{stack.effective_open311_url}/requests/{number}.json", timeout=10).json()[0]
    assert request["service_code"] == "POTHOLE" and request["address"] == street
    assert "Deep pothole, reported by phone to staff" in request["description"]
    assert talk.tracker()["slots"]["service_code"] is None  # the bot's half-made report is done with
    (entry,) = [a for a in audit_of(db, handoff.id) if a[1] == "file"]
    assert entry[0] == ana.username
    with db.engine.connect() as connection:
        detail = connection.execute(
            sa.select(audit_log.c.detail).where(audit_log.c.action == "file", audit_log.c.handoff_id == handoff.id)
        ).scalar_one()
    assert detail.startswith("POTHOLE R-") and street not in detail
    ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1")


def test_a_handoff_survives_restarts(stack, ana, db):
    talk = Conversation(stack.rasa_port)
    talk.text("talk to a person")
    handoff = handoff_of(db, talk.sender)
    ana.post(f"/console/handoffs/{handoff.id}/claim")
    stack.restart("console")
    assert ana.get(f"/console/handoffs/{handoff.id}").status_code == 200  # the session lives in the database
    stack.restart("rasa")
    assert talk.tracker()["paused"] is True
    assert talk.say("are you still there after the restart?") == []
    assert "are you still there after the restart?" in ana.texts(handoff.id, "resident")
    assert ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303
    assert "311 assistant" in talk.text("hello")


# --- Telegram and SMS residents, at the HTTP boundary ---------------------------------------

_updates = itertools.count(800_000_000 + random.randint(0, 10_000_000))


def telegram_says(stack, chat_id: int, text: str) -> None:
    update = {
        "update_id": next(_updates),
        "message": {
            "message_id": random.randint(1, 10**6),
            "date": int(time.time()),
            "text": text,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Rita"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Rita"},
        },
    }
    answer = httpx.post(
        f"http://127.0.0.1:{stack.rasa_port}/webhooks/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=90,
    )
    assert answer.status_code == 200, answer.text


def sent_to_chat(cloud: FakeCloud, chat_id: int) -> List[Any]:
    return [r for r in cloud.calls("sendMessage") if str(r.body.get("chat_id")) == str(chat_id)]


def test_a_telegram_resident_gets_a_person_on_telegram(stack, fake_cloud, ana, db):
    chat_id = random.randint(6_000_000_000, 6_999_999_999)
    telegram_says(stack, chat_id, "I want to talk to a real person")
    opening = wait_until(lambda: sent_to_chat(fake_cloud, chat_id), what="the bot's answer")
    assert "city staff" in opening[-1].body["text"]
    handoff = handoff_of(db, sender_id_for("telegram", str(chat_id)))
    assert handoff.channel == "telegram" and handoff.state == store.WAITING
    assert "Telegram" in ana.get("/console").text

    telegram_says(stack, chat_id, "my bins were not collected")
    noted = wait_until(lambda: sent_to_chat(fake_cloud, chat_id)[1:], what="the acknowledgement")
    assert NOTED in noted[0].body["text"]  # only that: the bot does not take the report meanwhile
    time.sleep(1.0)
    assert len(sent_to_chat(fake_cloud, chat_id)) == 2
    assert "my bins were not collected" in ana.texts(handoff.id, "resident")

    ana.post(f"/console/handoffs/{handoff.id}/claim")
    assert wait_until(lambda: [r for r in sent_to_chat(fake_cloud, chat_id) if r.body["text"] == notice(JOINED, "en")])
    started = time.time()
    assert (
        ana.post(f"/console/handoffs/{handoff.id}/reply", text="Hi Rita, I'll send a truck tomorrow.").status_code
        == 303
    )
    (reply,) = [r for r in sent_to_chat(fake_cloud, chat_id) if "send a truck" in r.body["text"]]
    assert reply.body["text"] == staff_reply("Hi Rita, I'll send a truck tomorrow.")
    assert reply.at - started < 1.0  # on the resident's phone within a second

    ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1")
    handed_back = notice(HANDED_BACK, "en")
    assert wait_until(lambda: [r for r in sent_to_chat(fake_cloud, chat_id) if r.body["text"] == handed_back])
    count = len(sent_to_chat(fake_cloud, chat_id))
    telegram_says(stack, chat_id, "hello")
    answers = wait_until(lambda: sent_to_chat(fake_cloud, chat_id)[count:], what="the bot's answer after the handoff")
    assert "311 assistant" in answers[0].body["text"]


def twilio_says(stack, number: str, text: str) -> None:
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/twilio/webhook"
    sid = "SM" + uuid.uuid4().hex
    form = {
        "From": number,
        "To": TWILIO_NUMBER,
        "Body": text,
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, form)
    answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60)
    assert answer.status_code == 200, answer.text


def texts_to(cloud: FakeCloud, number: str) -> List[Any]:
    return [r for r in cloud.calls("Messages.json") if r.body.get("To") == number]


def test_an_sms_resident_gets_a_person_by_sms(stack, fake_cloud, ana, db):
    number = f"+1555{random.randint(200, 999)}{random.randint(1000, 9999)}"
    twilio_says(stack, number, "can i speak to a human")
    opening = wait_until(lambda: texts_to(fake_cloud, number), what="the bot's answer")
    assert "city staff" in opening[-1].body["Body"]
    handoff = handoff_of(db, sender_id_for("sms", number))
    assert handoff.channel == "sms" and handoff.state == store.WAITING

    ana.post(f"/console/handoffs/{handoff.id}/claim")
    wait_until(lambda: [r for r in texts_to(fake_cloud, number) if r.body["Body"] == notice(JOINED, "en")])
    started = time.time()
    assert (
        ana.post(f"/console/handoffs/{handoff.id}/reply", text="Hello, this is the city. How can I help?").status_code
        == 303
    )
    (reply,) = [r for r in texts_to(fake_cloud, number) if "How can I help?" in r.body["Body"]]
    assert reply.body["Body"] == staff_reply("Hello, this is the city. How can I help?")
    assert reply.body["From"] == TWILIO_NUMBER and reply.at - started < 1.0

    before = len(texts_to(fake_cloud, number))
    twilio_says(stack, number, "the streetlight at 5th and Main is out")
    time.sleep(1.0)
    assert len(texts_to(fake_cloud, number)) == before  # no bot answer during the handoff
    assert "the streetlight at 5th and Main is out" in ana.texts(handoff.id, "resident")
    ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1")
    wait_until(lambda: [r for r in texts_to(fake_cloud, number) if r.body["Body"] == notice(HANDED_BACK, "en")])

    logs = "".join(p.read_text() for p in (stack.var_dir / "logs").glob("console.log"))
    assert number not in logs and number[-7:] not in logs and "5th and Main" not in logs


def test_a_spanish_reader_waits_and_talks_with_staff_in_spanish(stack, fake_cloud, ana, db):
    number = f"+1555{random.randint(200, 999)}{random.randint(1000, 9999)}"
    twilio_says(stack, number, '/set_language{"language": "es"}')  # the greeting's language button, by SMS
    wait_until(lambda: texts_to(fake_cloud, number), what="the language change")
    twilio_says(stack, number, "/request_human")
    opening = wait_until(lambda: texts_to(fake_cloud, number)[1:], what="the bot's answer")[-1].body["Body"]
    assert opening.startswith("Por supuesto. ") and "personal municipal" in opening, opening
    handoff = handoff_of(db, sender_id_for("sms", number))
    (row,) = [line for line in ana.get("/console").text.splitlines() if f'data-handoff="{handoff.id}"' in line]
    assert "<td data-language>Spanish</td>" in row
    assert '<dd id="resident-language">Spanish</dd>' in ana.get(f"/console/handoffs/{handoff.id}").text

    ana.post(f"/console/handoffs/{handoff.id}/claim")
    wait_until(lambda: [r for r in texts_to(fake_cloud, number) if r.body["Body"] == notice(JOINED, "es")])
    ana.post(f"/console/handoffs/{handoff.id}/reply", text="Hi! I'll answer in English, sorry.")
    (reply,) = [r for r in texts_to(fake_cloud, number) if "answer in English" in r.body["Body"]]
    assert reply.body["Body"] == staff_reply("Hi! I'll answer in English, sorry.", "es")  # sent as staff wrote it
    ana.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="0")
    wait_until(lambda: [r for r in texts_to(fake_cloud, number) if r.body["Body"] == notice(CLOSED, "es")])


# --- in the browser: a web chat resident and a staff member side by side ------------------------


def open_chat(page: Page, base: str) -> None:
    page.goto(f"{base}/chat")
    expect(page.get_by_label("Your message")).to_be_visible()


def type_message(page: Page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def bot_said(page: Page, text: str) -> None:
    expect(page.locator("#log .message--bot", has_text=text).last).to_be_visible(timeout=REPLY_TIMEOUT)


def test_a_web_chat_resident_and_a_staff_member_side_by_side(stack, browser_session, console_url):
    username = f"erin{next(_names)}"
    make_staff(stack, username)
    base = f"http://127.0.0.1:{stack.rasa_port}"
    with browser_session.active() as browser:
        resident_context = browser.new_context(viewport={"width": 1024, "height": 768})
        staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
        for context in (resident_context, staff_context):
            context.set_default_timeout(15_000)
        resident = resident_context.new_page()
        staff = staff_context.new_page()
        try:
            open_chat(resident, base)
            type_message(resident, "hello")
            bot_said(resident, "311 assistant")
            session = resident.evaluate("localStorage.getItem('citybot.webchat.session')")
            conversation = sender_id_for("webchat", session)

            # The staff member signs in with the keyboard only.
            staff.goto(f"{console_url}/console")
            expect(staff).to_have_url(re.compile(r"/console/login\?next=/console$"))
            expect(staff.get_by_label("Username")).to_be_focused()
            violations = serious_violations(staff)
            assert not violations, describe(violations)
            staff.keyboard.type(username)
            staff.keyboard.press("Tab")
            expect(staff.get_by_label("Password")).to_be_focused()
            staff.keyboard.type(PASSWORD)
            staff.keyboard.press("Enter")
            expect(staff.get_by_role("heading", name="Conversations waiting for staff")).to_be_visible()

            # The resident asks for a person; the queue shows it without a reload.
            type_message(resident, "I want to talk to a real person")
            bot_said(resident, "city staff")
            row = staff.locator(f"#queue-rows tr[data-conversation='{conversation}']")
            expect(row).to_be_visible(timeout=10_000)
            expect(row).to_contain_text("Web chat")
            expect(row).to_contain_text("Asked for a person")
            violations = serious_violations(staff)
            assert not violations, describe(violations)

            row.get_by_role("button", name=re.compile("^Claim conversation")).click()
            expect(staff.get_by_role("heading", name=re.compile(r"^Conversation #\d+"))).to_be_visible()
            transcript = staff.get_by_role("log", name=re.compile("Transcript"))
            expect(transcript).to_contain_text("I want to talk to a real person")
            expect(transcript).to_contain_text("311 assistant")  # the bot's turns are there too
            bot_said(resident, "A member of city staff has joined")

            # Staff reply reaches the web chat, marked as staff.
            staff.get_by_label("Your reply (sent on the resident's channel)").fill("Hi! This is Erin from City Hall.")
            staff.get_by_role("button", name="Send reply").click()
            expect(resident.locator("#log .message--staff")).to_contain_text(
                "Hi! This is Erin from City Hall.", timeout=10_000
            )
            expect(staff.get_by_label("Your reply (sent on the resident's channel)")).to_have_value("")

            # The resident answers; the staff member sees it live, and the bot stays silent.
            bots_before = resident.locator("#log .message--bot").count()
            type_message(resident, "My recycling was missed on Birch Lane")
            expect(
                transcript.locator(".turn--resident", has_text="My recycling was missed on Birch Lane")
            ).to_be_visible(timeout=10_000)
            resident.wait_for_timeout(1500)
            assert resident.locator("#log .message--bot").count() == bots_before

            # A private note: only staff see it.
            staff.get_by_label("Add a private note").fill("Birch Lane route, driver notified")
            staff.get_by_role("button", name="Save note").click()
            expect(staff.locator("#notes")).to_contain_text("Birch Lane route, driver notified")
            violations = serious_violations(staff)
            assert not violations, describe(violations)
            screenshot(staff, "handoff-console.png")

            # Resolve: back to the bot, which answers the resident's next question.
            expect(staff.get_by_label(re.compile("^Hand the conversation back"))).to_be_checked()
            staff.get_by_role("button", name="Resolve").click()
            expect(staff.get_by_role("status").first).to_contain_text("Conversation resolved.")
            bot_said(resident, "handed you back to the Riverton 311 assistant")
            type_message(resident, "what day is trash pickup?")
            bot_said(resident, "riverton.gov/trash")
            screenshot(resident, "handoff-webchat.png")
        finally:
            resident_context.close()
            staff_context.close()
