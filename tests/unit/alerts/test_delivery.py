"""Alert delivery at the HTTP boundary: 10,000 subscribers, a crash mid-way, a resume; and the rate limits.

Telegram's sendMessage and Twilio's Messages.json are the fake clouds of
tests/support/fake_cloud.py (a private instance, so ten thousand recorded requests stay
out of the session's shared one); web chat messages are rows in its table.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any, Dict, Iterator, Tuple

import pytest
import sqlalchemy as sa

from bot.alerts import store
from bot.alerts.delivery.job import run_delivery
from bot.alerts.delivery.lease import AlertBusy
from bot.alerts.limiter import reset_limiters
from bot.alerts.store import ALL, PENDING, SENDING, SENT, SKIPPED
from bot.channels.identity import sender_id_for
from bot.db.contacts import set_opted_out
from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.process.procs import PROJECT_ROOT
from tests.support.alerts import queued_alert
from tests.support.fake_cloud import FakeCloud, RecordedRequest, start_fake_cloud
from tests.support.residents import Resident, add_residents
from tests.support.stack import TELEGRAM_TOKEN, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER

SECRET = "alerts-delivery-test-key"


@pytest.fixture(scope="module")
def cloud() -> Iterator[FakeCloud]:
    cloud = start_fake_cloud()
    yield cloud
    cloud.server.shutdown()


@pytest.fixture
def channel_env(tmp_path, monkeypatch, cloud) -> Iterator[Dict[str, str]]:
    """Telegram and Twilio pointed at the fake cloud, a fresh database, alert settings for a quick run."""
    env = {
        "CITYBOT_VAR_DIR": str(tmp_path),
        "CITYBOT_SECRET_KEY": SECRET,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_API_BASE_URL": cloud.telegram_base_url,
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_BASE_URL": cloud.base_url,
        "ALERT_RATE_TELEGRAM": "0",  # no limit for the 10,000 (the limits have their own test)
        "ALERT_RATE_SMS": "0",
        "ALERT_RATE_WHATSAPP": "0",
        "ALERT_RATE_WEBCHAT": "0",
        "ALERT_LEASE_SECONDS": "3",
        "ALERT_RETRY_BASE_SECONDS": "0.2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("DATABASE_URL", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_WHATSAPP_FROM", "ALERT_CONCURRENCY"):
        monkeypatch.delenv(key, raising=False)
    reset_database()
    reset_limiters()
    yield env
    reset_database()
    reset_limiters()


def channel_senders() -> Dict[str, Any]:
    """The real channel senders, built from the environment (not registered process-wide)."""
    from bot.channels.telegram import TelegramSender, TelegramSettings
    from bot.channels.twilio_rest import TwilioSender, TwilioSettings

    twilio = TwilioSender(TwilioSettings.from_env())
    return {"telegram": TelegramSender(TelegramSettings.from_env()), "sms": twilio, "whatsapp": twilio}


def resident(channel: str, address: str, pairs: Tuple[Tuple[str, str], ...] = ((ALL, ALL),), **kw: Any) -> Resident:
    return Resident(sender_id_for(channel, address), channel, address, pairs, **kw)


def telegram_text(request: RecordedRequest) -> str:
    text = request.body.get("text", "")
    try:  # python-telegram-bot sends form fields JSON-encoded
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def received(cloud: FakeCloud, marker: str) -> Tuple[Counter, Counter]:
    """Messages carrying `marker`, per Telegram chat and per Twilio recipient."""
    telegram: Counter = Counter()
    twilio: Counter = Counter()
    for request in cloud.calls():
        if request.api_method == "sendMessage" and marker in telegram_text(request):
            telegram[str(json.loads(str(request.body["chat_id"])))] += 1
        elif request.api_method == "Messages.json" and marker in str(request.body.get("Body", "")):
            twilio[request.body["To"]] += 1
    return telegram, twilio


def webchat_received(marker: str) -> Counter:
    from bot.db.schema import webchat_messages

    with database().engine.begin() as connection:
        rows = connection.execute(
            sa.select(webchat_messages.c.sender_id).where(webchat_messages.c.payload.contains(marker))
        ).all()
    return Counter(row.sender_id for row in rows)


def states(alert_id: int) -> Counter:
    with database().engine.begin() as connection:
        rows = connection.execute(
            sa.select(deliveries.c.state, sa.func.count())
            .where(deliveries.c.alert_id == alert_id)
            .group_by(deliveries.c.state)
        ).all()
    return Counter(dict(rows))


def mix() -> Dict[str, int]:
    """How the 10,000 are spread over the channels.

    Each HTTP message costs this sandbox tens of milliseconds of system calls, so
    by default 1,300 go over HTTP (Telegram, SMS, WhatsApp) and the rest to
    web chats; ALERTS_TEST_MIX="4000,2500,1000,2500" (telegram, sms, whatsapp,
    webchat) spreads them differently on a faster machine.
    """
    raw = os.environ.get("ALERTS_TEST_MIX") or "700,400,200,8700"
    counts = dict(zip(("telegram", "sms", "whatsapp", "webchat"), (int(n) for n in raw.split(",")), strict=True))
    assert sum(counts.values()) == 10_000, counts
    return counts


def handler_threads() -> int:
    """Requests the fake cloud has received and not answered yet (one thread each)."""
    return sum(1 for t in threading.enumerate() if "process_request_thread" in t.name and t.is_alive())


def kill_once_requests_on_the_wire_arrived(job: subprocess.Popen, cloud: FakeCloud, alert_id: int) -> None:
    """SIGKILL the job while the cloud holds its answers, once every message the job has on
    its way (rows `sending`) has reached the cloud: those were delivered, and the job dies
    before it can record it. (A message cut off before it left is the other side of
    "unconfirmed"; the unit tests cover that the job never sends those again.)"""
    with cloud.lock:
        deadline = time.monotonic() + 20
        stable_since, last = None, None
        while True:
            now = (states(alert_id)[SENDING], handler_threads())
            if now[0] > 0 and now[1] >= now[0]:
                stable_since = stable_since if now == last else time.monotonic()
                if time.monotonic() - stable_since >= 0.3:
                    break
            last = now
            assert time.monotonic() < deadline, f"in flight {now[0]}, arrived {now[1]}"
            time.sleep(0.05)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(timeout=10)


def start_job(alert_id: int, env: Dict[str, str], log_path: Any) -> subprocess.Popen:
    """`citybot alerts resume ALERT_ID` in its own process group."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.alerts", "resume", str(alert_id), "--quiet"],
            cwd=str(PROJECT_ROOT),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def test_ten_thousand_subscribers_each_get_the_alert_once_across_a_crash(channel_env, cloud, tmp_path):
    counts = mix()
    mixes = [((ALL, ALL),), (("weather", ALL),), ((ALL, "north"),), (("weather", "north"), ("roads", ALL))]
    telegram = [resident("telegram", str(700_000_000 + i), mixes[i % 4]) for i in range(counts["telegram"])]
    sms = [resident("sms", f"+1555{2_000_000 + i:07d}", mixes[i % 4]) for i in range(counts["sms"])]
    whatsapp = [
        resident("whatsapp", f"whatsapp:+1555{3_000_000 + i:07d}", mixes[i % 4]) for i in range(counts["whatsapp"])
    ]
    webchat = [resident("webchat", str(uuid.UUID(int=i + 1)), mixes[i % 4]) for i in range(counts["webchat"])]
    recipients = telegram + sms + whatsapp + webchat
    assert len(recipients) == 10_000
    # Nobody else may hear of it: opted out (STOP), other topics or zones, unsubscribed, no subscription.
    opted_out = [resident("sms", f"+1555{4_000_000 + i:07d}", opted_out=True) for i in range(150)]
    other_topic = [resident("telegram", str(710_000_000 + i), (("roads", ALL),)) for i in range(100)]
    other_zone = [resident("webchat", str(uuid.UUID(int=900_000 + i)), (("weather", "south"),)) for i in range(100)]
    never = [resident("telegram", str(720_000_000 + i), ()) for i in range(100)]
    stop_later = [resident("whatsapp", f"whatsapp:+1555{5_000_000 + i:07d}") for i in range(20)]
    changed_mind = [resident("sms", f"+1555{6_000_000 + i:07d}", ()) for i in range(3)]
    add_residents(recipients + opted_out + other_topic + other_zone + never + stop_later + changed_mind)
    for person in changed_mind:  # "send me alerts" ... "stop alerts"
        await store.subscribe(person.sender_id)
        await store.unsubscribe(person.sender_id)

    preview = await store.preview_alert("weather", "north")
    assert preview.by_channel == {
        "sms": counts["sms"],
        "telegram": counts["telegram"],
        "webchat": counts["webchat"],
        "whatsapp": counts["whatsapp"] + len(stop_later),
    }
    assert preview.opted_out == 150
    marker = f"HEAT-{uuid.uuid4().hex[:8]}"
    alert = await queued_alert("weather", "north", "emergency", f"Extreme heat ({marker}). Cooling centers open.")
    for person in stop_later:  # STOP after the alert was written, before it reached them
        await set_opted_out(person.sender_id, True)
    http_total = counts["telegram"] + counts["sms"] + counts["whatsapp"]

    # 1. The delivery job runs in its own process (`citybot alerts resume`) and is killed mid-way.
    log_path = tmp_path / "alerts-jobs.log"
    first = start_job(alert.id, channel_env, log_path)
    try:
        deadline = time.monotonic() + 90
        while len([r for r in cloud.calls() if r.api_method in ("sendMessage", "Messages.json")]) < http_total // 3:
            assert first.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the job did not get going: " + log_path.read_text()[-3000:]
            await asyncio.sleep(0.05)
        kill_once_requests_on_the_wire_arrived(first, cloud, alert.id)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    at_crash = states(alert.id)
    assert at_crash[SENDING] > 0 and at_crash[SENT] < 10_000 and at_crash[PENDING] > 0, at_crash

    # 2. The dead job's lease holds the alert a few seconds; a new process then carries on.
    held = await store.get_alert(alert.id)
    assert held.lease_owner and held.lease_until is not None
    if (held.lease_until - utcnow()).total_seconds() > 0.5:
        with pytest.raises(AlertBusy):
            await run_delivery(alert.id, senders={})
    second = start_job(alert.id, channel_env, log_path)
    try:
        assert second.wait(timeout=180) == 0, log_path.read_text()[-3000:]
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()

    # 3. Every subscriber got exactly one message; nobody else got any.
    by_chat, by_number = received(cloud, marker)
    assert by_chat == Counter({p.address: 1 for p in telegram})
    assert by_number == Counter({p.address: 1 for p in sms + whatsapp})
    assert webchat_received(marker) == Counter({p.sender_id: 1 for p in webchat})
    status = await store.alert_status(alert.id)
    assert (status.pending, status.failed, status.skipped) == (0, 0, len(stop_later))
    assert status.sent + status.unconfirmed == 10_000
    assert status.unconfirmed == at_crash[SENDING]  # on their way at the crash: arrived, not sent again
    assert status.alert.state == store.DONE and status.alert.lease_owner is None


async def test_each_channel_holds_its_configured_rate(channel_env, cloud, monkeypatch):
    monkeypatch.setenv("ALERT_RATE_TELEGRAM", "20")
    monkeypatch.setenv("ALERT_RATE_SMS", "5")
    telegram = [resident("telegram", str(730_000_000 + i)) for i in range(41)]
    sms = [resident("sms", f"+1555{7_000_000 + i:07d}") for i in range(11)]
    add_residents(telegram + sms)
    marker = f"RATE-{uuid.uuid4().hex[:8]}"
    alert = await queued_alert(ALL, ALL, "info", f"Rate check {marker}.")
    senders = channel_senders()
    try:
        status = await run_delivery(alert.id, senders=senders)
    finally:
        await senders["telegram"].bot.shutdown()
        await senders["sms"].aclose()
    assert status.sent == 52
    calls = cloud.calls()
    telegram_times = sorted(r.at for r in calls if r.api_method == "sendMessage" and marker in telegram_text(r))
    sms_times = sorted(r.at for r in calls if r.api_method == "Messages.json" and marker in str(r.body.get("Body")))
    for times, rate in ((telegram_times, 20), (sms_times, 5)):
        count = len(times)
        span = times[-1] - times[0]
        # n messages at r/s: the last leaves (n-1)/r after the first (give or take the network's jitter).
        assert (count - 1) / span <= rate * 1.1, (rate, span)
        assert (count - 1) / span >= rate * 0.6, (rate, span)
        # No one-second window holds much more than the rate. The times are when the
        # fake cloud received each request, so a busy machine's scheduling jitter can
        # bunch a few arrivals together: allow half the rate on top, never double.
        busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        assert busiest <= rate * 1.5 + 2, (rate, busiest)


async def test_messenger_and_instagram_alerts_only_within_metas_24_hours(channel_env, cloud):
    """Outside the window an alert is not sent: the delivery is skipped, with the reason."""
    from bot.channels.messenger_api import MessengerSender, MessengerSettings
    from bot.db.contacts import note_resident_message

    recent = resident("messenger", "7300000000000001")
    instagram = resident("instagram", "instagram:7300000000000002")
    silent = resident("messenger", "7300000000000003")
    add_residents([recent, instagram, silent])
    await note_resident_message(recent.sender_id, utcnow() - timedelta(hours=3))
    await note_resident_message(instagram.sender_id, utcnow() - timedelta(hours=20))
    await note_resident_message(silent.sender_id, utcnow() - timedelta(hours=30))
    marker = f"META-{uuid.uuid4().hex[:8]}"
    alert = await queued_alert(ALL, ALL, "info", f"Boil water notice {marker}.")
    sender = MessengerSender(MessengerSettings("s", "v", "PAGE-TOKEN", "104938271650213", cloud.graph_base_url))
    try:
        status = await run_delivery(alert.id, senders={"messenger": sender, "instagram": sender})
    finally:
        await sender.aclose()
    assert (status.sent, states(alert.id)[SKIPPED]) == (2, 1)
    sent = [r.body for r in cloud.calls("messages") if marker in r.body["message"]["text"]]
    assert sorted(b["recipient"]["id"] for b in sent) == ["7300000000000001", "7300000000000002"]
    assert {b["messaging_type"] for b in sent} == {"UPDATE"}
    with database().engine.begin() as connection:
        error = connection.execute(
            sa.select(deliveries.c.last_error).where(deliveries.c.sender_id == silent.sender_id)
        ).scalar()
    assert "24 hours" in error
