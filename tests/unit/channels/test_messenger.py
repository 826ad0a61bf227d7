"""The Messenger/Instagram channel's parts that need no running assistant.

The webhook route's handler is called with real-shaped requests (the shared
eval set's payloads and signature vectors); sends go to the fake Graph API at
the HTTP boundary (tests/support/fake_cloud.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import outbound
from bot.channels.identity import sender_id_for
from bot.channels.messenger import SIGNATURE_HEADER, MessengerInput, signature_ok
from bot.channels.messenger_api import (
    INSTAGRAM,
    INSTAGRAM_TEXT_LIMIT,
    MAX_QUICK_REPLIES,
    MESSENGER,
    MESSENGER_TEXT_LIMIT,
    GraphClient,
    GraphSendError,
    MessengerSender,
    MessengerSettings,
    messaging_type,
    sender_from_env,
    split_text,
)
from bot.channels.messenger_events import read_body
from bot.channels.outbound import NotDeliverable, OutsideWindow
from bot.db.contacts import note_resident_message, remember_contact
from bot.db.engine import reset_database, utcnow
from tests.support.bilingual_city import use_bilingual_city
from tests.support.fake_cloud import FakeCloud
from tests.support.messenger import NOT_WEBHOOK_BODIES, eval_bodies, eval_payloads

PAGE_ID = "104938271650213"
SECRET = "unit-test-app-secret"


def webhook_bodies() -> List[Tuple[str, Dict[str, Any]]]:
    return eval_bodies(PAGE_ID)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(body: bytes, headers: Dict[str, str]) -> Any:
    """What the route's handler reads of a Sanic request (a body already read, as `stream=True` leaves it)."""
    return SimpleNamespace(headers=headers, body=body, stream=None)


# --- configuration ---------------------------------------------------------------------------


async def nothing_reaches_rasa(_message: UserMessage) -> None:
    raise AssertionError("no message may reach Rasa")


def test_without_its_variables_the_channel_is_off_with_one_log_line(monkeypatch, caplog):
    names = ("MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_PAGE_ID")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.INFO, logger="bot.channels.messenger"):
        channel = MessengerInput.from_credentials(None)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.channels.messenger"]
    assert lines == [f"Messenger/Instagram channel off: {', '.join(names)} not set"]
    assert channel.get_output_channel() is None and sender_from_env() is None
    answer = asyncio.run(channel._receive(request(b"{}", {SIGNATURE_HEADER: sign(b"{}")}), nothing_reaches_rasa))
    assert answer.status == 503 and b"MESSENGER_APP_SECRET" in answer.body


def test_the_page_token_stays_out_of_reprs():
    settings = MessengerSettings(app_secret="s3cret", verify_token="v", page_access_token="EAAB-token", page_id="1")
    assert "EAAB-token" not in repr(settings) and "s3cret" not in repr(settings)


# --- signatures ------------------------------------------------------------------------------


def test_the_published_signature_vectors():
    """Only X-Hub-Signature-256 counts: a body signed with the legacy SHA-1 header alone is refused."""
    vectors = [p for p in eval_payloads() if p["kind"] == "signature_vector"]
    assert len(vectors) == 8
    for vector in vectors:
        raw = vector["body_raw"].encode("utf-8")
        headers = {name.lower(): value for name, value in vector["headers"].items()}
        given = headers.get(SIGNATURE_HEADER.lower())
        expected = bool(vector["expected_valid"]) and given is not None
        assert signature_ok(vector["app_secret"], raw, given) is expected, vector["name"]
        if given is not None and expected:
            assert not signature_ok(vector["app_secret"] + "x", raw, given)
            assert not signature_ok(vector["app_secret"], raw + b" ", given)
            assert not signature_ok(vector["app_secret"], raw, given.replace("sha256=", "sha1="))


def test_signatures_are_checked_in_constant_time_on_the_exact_bytes():
    body = b'{"object": "page", "entry": []}'
    good = sign(body)
    assert signature_ok(SECRET, body, good)
    assert signature_ok(SECRET, body, good.upper().replace("SHA256=", "sha256="))  # hex in either case
    for bad in (None, "", "sha256=", good[:-1], good + "0", "sha256=" + "0" * 64, good[7:], "sha256=\u00e9" * 3):
        assert not signature_ok(SECRET, body, bad), bad
    assert not signature_ok("", body, sign(body, ""))  # no secret: nothing is valid


# --- reading events --------------------------------------------------------------------------


def test_every_published_payload_is_read_without_an_error():
    bodies = webhook_bodies()
    assert len(bodies) >= 130
    answered = sum(len(read_body(body, PAGE_ID)) for _, body in bodies if isinstance(body, dict))
    assert answered > 40


def item(**content: Any) -> Dict[str, Any]:
    return {"sender": {"id": "7001"}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000000000, **content}


def read(*items: Dict[str, Any], obj: str = "page") -> List[Any]:
    return read_body({"object": obj, "entry": [{"id": PAGE_ID, "time": 1, "messaging": list(items)}]}, PAGE_ID)


def test_what_is_acknowledged_and_left_alone():
    assert read(item(message={"mid": "m1", "text": "hi", "is_echo": True})) == []
    assert read({"sender": {"id": PAGE_ID}, "recipient": {"id": "7001"}, "message": {"mid": "m2", "text": "x"}}) == []
    assert read(item(delivery={"mids": ["m1"], "watermark": 1})) == []
    assert read(item(read={"watermark": 1})) == []
    assert read(item(reaction={"reaction": "love", "emoji": "\u2764", "action": "react", "mid": "m1"})) == []
    assert read(item(message={"mid": "m3", "is_deleted": True}), obj="instagram") == []
    standby = {"object": "page", "entry": [{"id": PAGE_ID, "standby": [item(message={"mid": "m4", "text": "hi"})]}]}
    assert read_body(standby, PAGE_ID) == []
    assert read_body({"object": "user", "entry": [{"messaging": [item(message={"text": "hi"})]}]}, PAGE_ID) == []


def test_texts_quick_replies_postbacks_and_referrals():
    (typed,) = read(item(message={"mid": "m1", "text": "/affirm please"}))
    assert typed.text == "affirm please" and typed.delivery_id == "m:m1"  # typing cannot inject an intent
    (tapped,) = read(item(message={"mid": "m2", "text": "bike lane", "quick_reply": {"payload": "/inform"}}))
    assert tapped.text == "/inform"
    (started,) = read(item(postback={"title": "Get Started", "payload": "GET_STARTED"}))
    assert started.text == "/greet" and started.delivery_id is not None
    (linked,) = read(item(postback={"payload": "GET_STARTED", "referral": {"ref": "report_pothole", "type": "x"}}))
    assert linked.text == "/report_pothole"
    (referral,) = read(item(referral={"ref": "report-water-leak", "source": "SHORTLINK", "type": "OPEN_THREAD"}))
    assert referral.text == "/report_water_leak"
    (unknown,) = read(item(referral={"ref": "/set_language{}", "source": "SHORTLINK"}))
    assert unknown.text == "/greet"  # a ref is not an intent unless it is one of the topics
    (instagram,) = read(item(message={"mid": "m5", "text": "hola"}), obj="instagram")
    assert (instagram.channel, instagram.address) == (INSTAGRAM, "instagram:7001")


def test_locations_photos_and_what_cannot_be_read():
    location = {"type": "location", "payload": {"coordinates": {"lat": 41.4, "long": -90.6}}}
    (shared,) = read(item(message={"mid": "m1", "attachments": [location]}))
    assert shared.metadata == {"location": {"latitude": 41.4, "longitude": -90.6}}
    assert shared.stand_in == "channels.my_location" and shared.text is None
    image = {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/a.jpg"}}
    (photo,) = read(item(message={"mid": "m2", "text": "deep hole", "attachments": [image]}))
    assert photo.image_url == "https://scontent.xx.fbcdn.net/v/a.jpg" and photo.text == "deep hole"
    sticker = {
        "type": "image",
        "payload": {"url": "https://scontent.xx.fbcdn.net/s.png", "sticker_id": 369239263222822},
    }
    for attachment in (sticker, {"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/a.mp4"}}, {"type": "file"}):
        (polite,) = read(item(message={"mid": f"m{id(attachment)}", "attachments": [attachment]}))
        assert polite.reply == "channels.messenger_unsupported"
    (too_long,) = read(item(message={"mid": "m9", "text": "x" * 2001}))
    assert too_long.reply == "channels.too_long"


def test_every_entry_and_item_of_a_batch_is_read():
    body = {
        "object": "page",
        "entry": [
            {"id": PAGE_ID, "messaging": [item(message={"mid": "a", "text": "one"})]},
            {"id": PAGE_ID, "messaging": [item(message={"mid": "b", "text": "two"}), item(read={"watermark": 1})]},
            {"id": PAGE_ID, "messaging": [item(message={"mid": "c", "text": "three"})]},
        ],
    }
    assert [i.text for i in read_body(body, PAGE_ID)] == ["one", "two", "three"]


# --- the window rule ---------------------------------------------------------------------------


def test_meta_windows():
    now = utcnow()
    assert messaging_type(now - timedelta(hours=23), None, now) == {"messaging_type": "UPDATE"}
    assert messaging_type(now - timedelta(hours=23), "staff", now) == {"messaging_type": "UPDATE"}
    tagged = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert messaging_type(now - timedelta(days=6, hours=23), "staff", now) == tagged
    for last, role in ((timedelta(hours=25), None), (timedelta(days=7, minutes=1), "staff")):
        with pytest.raises(OutsideWindow):  # a report's update then goes by SMS, if the resident gave a phone
            messaging_type(now - last, role, now)
    with pytest.raises(NotDeliverable) as never_wrote:
        messaging_type(None, None, now)
    assert not isinstance(never_wrote.value, OutsideWindow)


# --- sending, at the fake Graph API -------------------------------------------------------------


@pytest.fixture
def meta(city, tmp_path, monkeypatch, fake_cloud: FakeCloud) -> Iterator[Tuple[MessengerInput, FakeCloud]]:
    """The channel on a fresh database, sending to the fake Graph API."""
    use_bilingual_city(monkeypatch, tmp_path)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    monkeypatch.setattr(outbound, "_senders", {})
    settings = MessengerSettings(SECRET, "verify-me", "PAGE-TOKEN", PAGE_ID, fake_cloud.graph_base_url)
    channel = MessengerInput(settings)
    assert channel.sender is not None
    channel.sender.graph = GraphClient(settings, backoff=0.01)
    fake_cloud.clear()
    yield channel, fake_cloud
    reset_database()


def sent_bodies(cloud: FakeCloud) -> List[Dict[str, Any]]:
    return [r.body for r in cloud.calls("messages")]


async def test_buttons_become_quick_replies_or_a_numbered_list(meta):
    channel, cloud = meta
    sender = channel.sender
    assert sender is not None
    await sender.reply(
        "7001", "Send it?", [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    )
    (short,) = sent_bodies(cloud)
    assert short["recipient"] == {"id": "7001"} and short["messaging_type"] == "RESPONSE"
    assert short["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Yes", "payload": "/affirm"},
        {"content_type": "text", "title": "No", "payload": "/deny"},
    ]
    long_titles = [{"title": "large (bigger than a car tire)", "payload": "large"}, {"title": "small", "payload": "s"}]
    await sender.reply("7001", "How big is it?", long_titles)
    numbered = sent_bodies(cloud)[-1]["message"]
    assert numbered["text"] == "How big is it?\n\nReply 1 for large (bigger than a car tire); 2 for small."
    assert [(q["title"], q["payload"]) for q in numbered["quick_replies"]] == [("1", "large"), ("2", "s")]
    many = [{"title": f"choice {n}", "payload": f"c{n}"} for n in range(MAX_QUICK_REPLIES + 1)]
    await sender.reply("7001", "Pick one", many)
    listed = sent_bodies(cloud)[-1]["message"]
    assert "quick_replies" not in listed and "14 for choice 13" in listed["text"]


async def test_long_texts_are_split_at_each_platforms_limit(meta):
    channel, cloud = meta
    assert channel.sender is not None
    text = ("Ñandú crossing the road near the river. " * 120).strip()
    await channel.sender.reply("7001", text, [{"title": "OK", "payload": "/affirm"}])
    parts = [b["message"] for b in sent_bodies(cloud)]
    assert len(parts) == len(split_text(text, MESSENGER)) >= 3
    assert all(len(p["text"]) <= MESSENGER_TEXT_LIMIT for p in parts)
    assert "quick_replies" in parts[-1] and all("quick_replies" not in p for p in parts[:-1])
    assert all(len(p.encode("utf-8")) <= INSTAGRAM_TEXT_LIMIT for p in split_text(text, INSTAGRAM))


async def test_temporary_graph_failures_are_retried_then_raised_once_attempts_run_out(meta):
    channel, cloud = meta
    assert channel.sender is not None
    cloud.fail_next("messages", 2)
    await channel.sender.reply("7001", "Hello")
    assert len(cloud.calls("messages")) == 3 and sent_bodies(cloud)[-1]["message"] == {"text": "Hello"}
    cloud.fail_next("messages", 10)
    with pytest.raises(GraphSendError) as failure:
        await channel.sender.reply("7001", "Hello again")
    assert failure.value.code == 1200 and failure.value.temporary
    cloud.clear()


async def test_metas_own_outside_the_window_answer_is_not_deliverable(meta):
    """The real error body Meta answered outside the window (code 10, subcode 2018065), from the eval set."""
    channel, cloud = meta
    assert channel.sender is not None
    (outside,) = [p for p in eval_payloads() if p["kind"] == "send_api_error" and "2018065" in json.dumps(p["body"])]
    cloud.graph_failure = (400, outside["body"])
    cloud.fail_next("messages", 1)
    with pytest.raises(NotDeliverable):
        await channel.sender.reply("7001", "Too late?")
    assert len(cloud.calls("messages")) == 1  # not retried
    cloud.clear()


async def written(sender_id: str, address: str, channel: str, ago: Optional[timedelta]) -> None:
    await remember_contact(sender_id, channel, address)
    if ago is not None:
        await note_resident_message(sender_id, utcnow() - ago)


async def test_outbound_messages_keep_to_metas_windows(meta):
    channel, cloud = meta
    sender: Optional[MessengerSender] = channel.sender
    assert sender is not None
    recent, old, older = "7101", "instagram:7102", "7103"
    await written(sender_id_for(MESSENGER, recent), recent, MESSENGER, timedelta(hours=2))
    await written(sender_id_for(INSTAGRAM, old), old, INSTAGRAM, timedelta(days=2))
    await written(sender_id_for(MESSENGER, older), older, MESSENGER, timedelta(days=8))

    await sender.send(recent, "Update on your report")
    assert sent_bodies(cloud)[-1] == {
        "recipient": {"id": "7101"},
        "messaging_type": "UPDATE",
        "message": {"text": "Update on your report"},
    }
    with pytest.raises(NotDeliverable):
        await sender.send(old, "An alert")  # two days after the resident's last message
    await sender.send(old, "I'll send a truck.", role="staff")
    assert sent_bodies(cloud)[-1] == {
        "recipient": {"id": "7102"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "City staff: I'll send a truck."},
    }
    with pytest.raises(NotDeliverable):
        await sender.send(older, "Too late", role="staff")
    assert len(sent_bodies(cloud)) == 2
    with pytest.raises(NotDeliverable):
        await outbound.deliver(sender_id_for(MESSENGER, older), "a status update")  # the outbound path itself


async def test_the_route_refuses_bad_signatures_and_reads_good_ones(meta):
    channel, cloud = meta
    to_rasa: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        to_rasa.append(message)

    body = json.dumps(read_body_shape("hello")).encode()
    for header in ({}, {SIGNATURE_HEADER: "sha256=00"}, {"X-Hub-Signature": "sha1=" + "0" * 40}):
        answer = await channel._receive(request(body, header), on_new_message)
        assert answer.status == 403
    assert to_rasa == []
    answer = await channel._receive(request(body, {SIGNATURE_HEADER: sign(body)}), on_new_message)
    assert answer.status == 200 and [m.text for m in to_rasa] == ["hello"]
    assert to_rasa[0].sender_id == sender_id_for(MESSENGER, "7001") and to_rasa[0].input_channel == MESSENGER
    again = await channel._receive(request(body, {SIGNATURE_HEADER: sign(body)}), on_new_message)
    assert again.status == 200 and len(to_rasa) == 1  # a retried delivery is processed once
    for raw in (b"{not json", b"[1]", b"\xff"):
        assert (await channel._receive(request(raw, {SIGNATURE_HEADER: sign(raw)}), on_new_message)).status == 400


def read_body_shape(text: str) -> Dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1, "messaging": [item(message={"mid": "mx", "text": text})]}],
    }


async def test_every_published_payload_through_the_route(meta, caplog):
    """2xx with a valid signature, 403 with a wrong one; Meta's unrepaired texts get 2xx or a clear 400."""
    channel, _ = meta
    to_rasa: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        to_rasa.append(message)

    for _name, body in webhook_bodies():
        raw = json.dumps(body).encode()
        assert (
            await channel._receive(request(raw, {SIGNATURE_HEADER: sign(raw, "wrong")}), on_new_message)
        ).status == 403
    assert to_rasa == []
    for name, body in webhook_bodies():
        raw = json.dumps(body).encode()
        answer = await channel._receive(request(raw, {SIGNATURE_HEADER: sign(raw)}), on_new_message)
        assert 200 <= answer.status < 300, (name, answer.status, answer.body)
    assert len(to_rasa) >= 25  # the rest: events left alone, fixed replies, retries of a mid already seen
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an event failed"
    for payload in eval_payloads():
        if "published_text" in payload and payload["level"] not in NOT_WEBHOOK_BODIES:
            raw = payload["published_text"].encode()
            answer = await channel._receive(request(raw, {SIGNATURE_HEADER: sign(raw)}), on_new_message)
            assert answer.status in (200, 400), (payload["name"], answer.status)
