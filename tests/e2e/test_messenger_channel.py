"""Facebook Messenger and Instagram end to end: Meta's webhook events posted to the real Rasa server.

Bodies are shaped and signed as Meta sends them (tests/support/messenger.py);
what the assistant answers is read at the fake Graph API, which records every
Send API call. What needs no running assistant is in tests/unit/channels/test_messenger.py.
"""

from __future__ import annotations

import json
import random
import re
import time
from datetime import timedelta
from typing import Any, Dict, List

import httpx
import pytest
import sqlalchemy as sa

from bot.channels.identity import sender_id_for
from bot.db.engine import utcnow
from bot.db.schema import audit_log, contacts, handoffs, status_notifications
from tests.e2e.test_status_updates import change_status, file_fallen_tree
from tests.support.messenger import (
    MetaResident,
    eval_bodies,
    last_with,
    post_webhook,
    quick_replies,
    signature,
    text_of,
    wrap,
)
from tests.support.rasa_log import RasaLog
from tests.support.reports import request_number, stored, unique_address
from tests.support.stack import MESSENGER_PAGE_ACCESS_TOKEN, MESSENGER_VERIFY_TOKEN
from tests.support.staff import signed_in_staff
from tests.support.twilio import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]

FAKE_JPEG = b"\xff\xd8\xff\xe0fakejpeg"
POLITE = "Sorry, I can only read text messages, shared locations and photos. Please type your message."


@pytest.fixture
def resident(stack, fake_cloud) -> MetaResident:
    return MetaResident(stack, fake_cloud)


@pytest.fixture
def stack_db(stack):
    engine = sa.create_engine(f"sqlite:///{stack.var_dir / 'citybot.db'}")
    yield engine
    engine.dispose()


# --- the webhook's gate -----------------------------------------------------------------------


def test_meta_verifies_the_webhook_with_the_verify_token(stack):
    url = f"http://127.0.0.1:{stack.rasa_port}/webhooks/messenger/webhook"
    query = {"hub.mode": "subscribe", "hub.verify_token": MESSENGER_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answer = httpx.get(url, params=query, timeout=10)
    assert answer.status_code == 200 and answer.text == "1158201444"
    for wrong in ({"hub.verify_token": "guess"}, {"hub.mode": "unsubscribe"}, {"hub.challenge": ""}):
        assert httpx.get(url, params={**query, **wrong}, timeout=10).status_code == 403, wrong


def test_a_wrong_or_missing_signature_is_403_and_nothing_is_processed(stack, resident):
    body = json.dumps(wrap(resident.message(text="hello"))).encode("utf-8")
    legacy_only = {"X-Hub-Signature": "sha1=" + "0" * 40}
    for signed in (None, "", "sha256=" + "0" * 64, signature(body, "another-secret"), signature(body)[7:]):
        answer = post_webhook(stack, body, signed)
        assert answer.status_code == 403, (signed, answer.text)
    assert (
        httpx.post(
            f"http://127.0.0.1:{stack.rasa_port}/webhooks/messenger/webhook",
            content=body,
            headers=legacy_only,
            timeout=10,
        ).status_code
        == 403
    )
    assert post_webhook(stack, body + b" ", signature(body)).status_code == 403  # a body other than the signed one
    time.sleep(0.5)
    assert resident.sent() == []
    assert post_webhook(stack, body).status_code == 200  # the same body, signed: answered once
    assert "311 assistant" in text_of(resident.sent())


def test_every_published_payload_is_answered_2xx_signed_and_403_not(stack):
    log = RasaLog(stack)
    bodies = eval_bodies()
    assert len(bodies) >= 130
    for name, body in bodies:
        raw = json.dumps(body).encode("utf-8")
        assert post_webhook(stack, raw, signature(raw, "not-the-app-secret")).status_code == 403, name
    for name, body in bodies:
        answer = post_webhook(stack, json.dumps(body).encode("utf-8"))
        assert 200 <= answer.status_code < 300, (name, answer.status_code, answer.text)
    written = log.new_text()
    assert "Traceback" not in written and " ERROR " not in written, written[-3000:]


def test_a_body_that_is_not_a_json_object_is_400(stack):
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe{", b""):
        answer = post_webhook(stack, raw)
        assert answer.status_code == 400, (raw, answer.text)


# --- conversations ------------------------------------------------------------------------------


def test_get_started_greets_with_quick_replies_and_a_link_opens_a_topic(stack, fake_cloud):
    resident = MetaResident(stack, fake_cloud)
    replies = resident.deliver(resident.item(postback={"title": "Get Started", "payload": "GET_STARTED"}))
    greeting = last_with(replies, "311 assistant")
    # "Check a report's status" is over 20 characters: the starters come numbered, their numbers as quick replies.
    assert "1 for Report a problem" in greeting["message"]["text"]
    assert ("1", "/report_problem") in quick_replies(greeting)
    assert greeting["messaging_type"] == "RESPONSE"
    linked = MetaResident(stack, fake_cloud)
    referral = {"ref": "report_pothole", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert "How big is it?" in text_of(linked.deliver(linked.item(referral=referral)))


def test_a_pothole_report_with_quick_replies_a_shared_location_and_a_photo(stack, resident):
    size = last_with(resident.send(text="I need to report a pothole"), "How big is it?")
    # The choices' titles are longer than Messenger's 20 characters: a numbered list, its numbers as quick replies.
    assert "3 for large (bigger than a car tire)" in size["message"]["text"]
    assert ("3", "large (bigger than a car tire)") in quick_replies(size)
    lane = last_with(resident.tap(size, "3"), "Where on the road?")
    assert "bike lane" in dict(quick_replies(lane))
    assert "Where is it?" in text_of(resident.tap(lane, "bike lane"))

    latitude, longitude = round(random.uniform(41.40, 41.45), 5), round(random.uniform(-90.65, -90.60), 5)
    replies = resident.share_location(latitude, longitude)
    assert "describe the problem" in text_of(replies), text_of(replies)
    photo = {"type": "image", "payload": {"url": resident.photo_url()}}
    replies = resident.send(text="Deep hole by the curb, bikes swerve into traffic", attachments=[photo])
    assert "updates" in text_of(replies), text_of(replies)
    summary = last_with(resident.send(text="skip"), "Here's your report")
    assert "the location you shared" in summary["message"]["text"]
    request_id = request_number(text_of(resident.tap(summary, "Yes, send it")))

    found = httpx.get(f"{stack.effective_open311_url}/requests/{request_id}.json", timeout=10).json()[0]
    assert (found["lat"], found["long"]) == (latitude, longitude)
    assert found["description"].startswith("Deep hole by the curb")
    media_url = found["media_url"]
    assert media_url.startswith(f"http://127.0.0.1:{stack.rasa_port}/webhooks/messenger/media/")
    assert "/cdn/" not in media_url and MESSENGER_PAGE_ACCESS_TOKEN not in media_url
    assert stored(stack, request_id).attributes == {"size": "large (bigger than a car tire)", "lane": "bike lane"}
    picture = httpx.get(media_url, timeout=30)
    assert picture.status_code == 200 and picture.content == FAKE_JPEG
    base, sig = media_url.split("?sig=")
    assert httpx.get(f"{base}?sig={'0' if sig[0] != '0' else '1'}{sig[1:]}", timeout=10).status_code == 403
    assert httpx.get(base, timeout=10).status_code == 403


def test_a_messenger_report_in_spanish(stack, resident):
    size = last_with(resident.send(text="hay un bache bien grande en mi calle"), "¿Qué tan grande es?")
    lane = last_with(resident.choose(size, "grande (más grande que una llanta de carro)"), "¿En qué parte de la calle")
    assert "¿Dónde está?" in text_of(resident.choose(lane, "Omitir")), lane
    assert "describa el problema" in resident.say(unique_address())
    assert "recibir noticias" in resident.say("está enfrente de la tienda de la esquina")
    summary = last_with(resident.send(text="omitir"), "Este es su reporte:")
    assert "Bache" in summary["message"]["text"]
    reply = resident.say("sí")
    match = re.search(r"Su número de solicitud es (\w[\w-]*)", reply)
    assert match, reply
    request = stored(stack, match.group(1))
    assert request.service_code == "POTHOLE" and request.attributes == {"size": "large (bigger than a car tire)"}
    (polite,) = resident.send(attachments=[{"type": "audio", "payload": {"url": resident.photo_url()}}])
    assert polite["message"]["text"].startswith("Lo siento, solo puedo leer mensajes de texto")
    alerts = resident.say("mándeme las alertas de emergencia de la ciudad")
    assert "24 horas" in alerts and "WhatsApp" in alerts, alerts


def test_stickers_audio_video_and_files_get_a_polite_answer(stack, resident):
    log = RasaLog(stack)
    url = resident.photo_url()
    sticker = {"type": "image", "payload": {"url": url, "sticker_id": 369239263222822}}
    for attachment in (sticker, *({"type": kind, "payload": {"url": url}} for kind in ("audio", "video", "file"))):
        assert [m["message"]["text"] for m in resident.send(attachments=[attachment])] == [POLITE]
    assert "Traceback" not in log.new_text()


def test_a_batch_is_read_whole_and_a_retried_message_is_answered_once(stack, fake_cloud):
    ana, ben = MetaResident(stack, fake_cloud), MetaResident(stack, fake_cloud)
    first, second = ana.message(text="hello"), ben.message(text="hi there")
    body = {"object": "page", "entry": [wrap(first)["entry"][0], wrap(second)["entry"][0]]}
    assert ana.post(body).status_code == 200
    assert ana.post(body).status_code == 200  # Meta delivers it again
    assert len(ana.sent()) == 1 and len(ben.sent()) == 1
    assert "311 assistant" in text_of(ana.sent()) and "311 assistant" in text_of(ben.sent())


def test_an_instagram_resident_is_answered_on_instagram(stack, fake_cloud, stack_db):
    log = RasaLog(stack)
    resident = MetaResident(stack, fake_cloud, instagram=True)
    assert "311 assistant" in resident.say("hello")
    written = log.new_text()
    assert resident.user_id not in written and resident.user_id[-4:] in written  # logged masked
    assert MESSENGER_PAGE_ACCESS_TOKEN not in written
    with stack_db.connect() as connection:
        row = connection.execute(
            sa.select(contacts).where(contacts.c.sender_id == sender_id_for("instagram", resident.address))
        ).first()
    assert row is not None and row.channel == "instagram" and row.last_message_at is not None


# --- Meta's 24-hour window ----------------------------------------------------------------------


def updates(resident: MetaResident) -> List[Dict[str, Any]]:
    return [m for m in resident.sent() if m["message"]["text"].startswith("Update on your report")]


def test_status_updates_go_out_within_24_hours_and_are_not_deliverable_after(stack, fake_cloud, stack_db):
    recent, silent = MetaResident(stack, fake_cloud), MetaResident(stack, fake_cloud)
    recent_id, silent_id = file_fallen_tree(recent.say), file_fallen_tree(silent.say)
    silent_sender = sender_id_for("messenger", silent.address)
    with stack_db.begin() as connection:  # the silent resident last wrote 25 hours ago
        connection.execute(
            contacts.update()
            .where(contacts.c.sender_id == silent_sender)
            .values(last_message_at=utcnow() - timedelta(hours=25))
        )
    change_status(stack, silent_id, "closed", "closed - fixed")
    change_status(stack, recent_id, "open", "assigned to a Forestry crew")
    fake_cloud.wait_for(lambda _: len(updates(recent)) == 1, timeout=30)
    (update,) = [c.body for c in recent.sent_calls() if c.body["message"]["text"].startswith("Update")]
    assert update["messaging_type"] == "UPDATE" and "assigned to a Forestry crew" in update["message"]["text"]

    def silent_state() -> str:
        with stack_db.connect() as connection:
            return connection.execute(
                sa.select(status_notifications.c.state).where(status_notifications.c.sender_id == silent_sender)
            ).scalar()

    deadline = time.monotonic() + 20
    while silent_state() != "skipped" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert silent_state() == "skipped"  # recorded as not deliverable
    assert updates(silent) == []


def last_wrote(stack_db, sender_id: str, ago: timedelta) -> None:
    with stack_db.begin() as connection:
        connection.execute(
            contacts.update().where(contacts.c.sender_id == sender_id).values(last_message_at=utcnow() - ago)
        )


def update_states(stack_db, sender_id: str, expected: List[str], seconds: float = 20) -> List[str]:
    """The conversation's status updates' states, once they are `expected` or `seconds` have passed.

    The worker records an update as sent after the channel's API answered, so the
    text can reach the fake cloud a moment before its state changes.
    """
    query = sa.select(status_notifications.c.state).where(status_notifications.c.sender_id == sender_id)
    deadline = time.monotonic() + seconds
    while True:
        with stack_db.connect() as connection:
            states = list(connection.execute(query.order_by(status_notifications.c.id)).scalars())
        if states == expected or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


def test_after_24_hours_updates_are_texted_to_the_phone_given_until_it_texts_stop(stack, fake_cloud, stack_db):
    resident, phone = MetaResident(stack, fake_cloud), Phone(stack, fake_cloud)
    sender_id = sender_id_for("messenger", resident.address)
    size = last_with(resident.send(text="I need to report a pothole"), "How big is it?")
    lane = last_with(resident.tap(size, "3"), "Where on the road?")
    assert "Where is it?" in text_of(resident.tap(lane, "bike lane"))
    assert "describe the problem" in resident.say(unique_address())
    assert "updates" in resident.say("Deep hole by the curb, bikes swerve into traffic")
    written = f"Ana, ({phone.number[2:5]}) {phone.number[5:8]}-{phone.number[8:]}"  # "+15551234567" as people write it
    assert "Here's your report" in resident.say(written)
    filed = resident.say("yes")
    request_id = request_number(filed)
    assert f"we'll text updates on your requests to {phone.number}" in filed, filed

    last_wrote(stack_db, sender_id, timedelta(hours=25))
    change_status(stack, request_id, "open", "assigned to a Public Works crew")
    texted = phone.read()
    assert texted.startswith("Update on your report") and "assigned to a Public Works crew" in texted
    assert updates(resident) == []  # not on Messenger
    assert update_states(stack_db, sender_id, ["sent"]) == ["sent"]

    assert phone.send_unanswered("STOP")
    change_status(stack, request_id, "closed", "closed - fixed")
    assert update_states(stack_db, sender_id, ["sent", "skipped"]) == ["sent", "skipped"]
    assert phone.nothing_received() and updates(resident) == []


def test_staff_reply_with_the_human_agent_tag_for_7_days_and_the_console_shows_messenger(
    stack, fake_cloud, console_url, stack_db
):
    resident = MetaResident(stack, fake_cloud)
    sender_id = sender_id_for("messenger", resident.address)
    assert "city staff" in resident.say("I want to talk to a real person")
    staff = signed_in_staff(stack, console_url, f"mia{random.randint(1000, 9999)}")
    with stack_db.connect() as connection:
        handoff = connection.execute(
            sa.select(handoffs).where(handoffs.c.sender_id == sender_id).order_by(handoffs.c.id.desc())
        ).first()
    assert handoff is not None and handoff.channel == "messenger"
    assert "Messenger" in staff.get("/console").text
    staff.post(f"/console/handoffs/{handoff.id}/claim")

    last_wrote(stack_db, sender_id, timedelta(days=2))
    assert staff.post(f"/console/handoffs/{handoff.id}/reply", text="A crew comes Monday.").status_code == 303
    (tagged,) = [c.body for c in resident.sent_calls() if "A crew comes Monday." in c.body["message"]["text"]]
    assert tagged["messaging_type"] == "MESSAGE_TAG" and tagged["tag"] == "HUMAN_AGENT"
    assert tagged["message"]["text"] == "City staff: A crew comes Monday."

    last_wrote(stack_db, sender_id, timedelta(days=8))
    refused = staff.post(f"/console/handoffs/{handoff.id}/reply", text="Are you there?")
    assert refused.status_code == 200 and "messaging window" in refused.text  # staff see why
    assert not [c for c in resident.sent_calls() if "Are you there?" in c.body["message"]["text"]]
    with stack_db.connect() as connection:
        query = sa.select(audit_log.c.detail).where(audit_log.c.handoff_id == handoff.id)
        assert any("messaging window" in (detail or "") for detail in connection.execute(query).scalars())
