"""Job alerts over real HTTP: the feed changes and each new posting reaches each matching subscriber once.

The feed is served by the test (tests/support/jobs.py); web chat alerts are rows
of its transcript table, SMS goes to the fake Twilio API (tests/support/fake_cloud.py).
Opted-out SMS numbers and WhatsApp residents outside the 24-hour window are not
written to; a restart (a new process, the same database) sends nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from typing import AsyncIterator, Dict, Iterator, List

import pytest
import sqlalchemy as sa

from bot.alerts.limiter import reset_limiters
from bot.channels import outbound
from bot.channels.identity import sender_id_for
from bot.channels.outbound import close_senders, register_sender
from bot.channels.twilio_rest import TwilioSender, TwilioSettings
from bot.channels.webchat import WebChatSender
from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import contacts, job_notifications, webchat_messages
from bot.jobs import alerts
from bot.jobs.alerts import deliver_job_alerts
from bot.jobs.schedule import jobs_loop, refresh_jobs
from bot.jobs.subscriptions import subscribe_to_jobs, unsubscribe_from_jobs
from bot.process.procs import PROJECT_ROOT
from tests.support.fake_cloud import FakeCloud, start_fake_cloud
from tests.support.jobs import FeedSite, job_posting, shipped_document
from tests.support.stack import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER

SNOWPLOW = job_posting(
    "2027-0150", "Snowplow Driver (seasonal)", "Public Works", description="Drive plows on winter nights."
)
LIFEGUARD = job_posting("2027-0151", "Lifeguard", "Aquatics")
CLOSED = job_posting("2027-0152", "Street Sweeper Operator", "Public Works", validThrough="2026-01-31")


@pytest.fixture(scope="module")
def cloud() -> Iterator[FakeCloud]:
    cloud = start_fake_cloud()
    yield cloud
    cloud.server.shutdown()


@pytest.fixture
async def site(monkeypatch: pytest.MonkeyPatch, cloud: FakeCloud) -> AsyncIterator[FeedSite]:
    site = FeedSite()
    await site.start()
    env = {
        "JOBS_FEED_URL": site.url,
        "CITYBOT_SECRET_KEY": "jobs-alerts-test-key",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_BASE_URL": cloud.base_url,
        "ALERT_RATE_SMS": "0",
        "ALERT_RATE_WEBCHAT": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("TWILIO_MESSAGING_SERVICE_SID", "TWILIO_WHATSAPP_FROM", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(outbound, "_senders", {})  # the channels this test registers go with it
    reset_limiters()
    cloud.clear()
    site.serve(shipped_document())
    yield site
    await close_senders()
    await site.stop()
    reset_limiters()


def resident(channel: str, address: str, opted_out: bool = False, last_message_hours_ago: float = 0) -> str:
    """A resident's contact as their channel stored it on their last message; their conversation id."""
    sender_id = sender_id_for(channel, address)
    with database().engine.begin() as connection:
        connection.execute(
            contacts.insert().values(
                sender_id=sender_id,
                channel=channel,
                address=address,
                opted_out=opted_out,
                updated_at=utcnow() - dt.timedelta(hours=last_message_hours_ago),
            )
        )
    return sender_id


async def subscribers() -> Dict[str, str]:
    """Residents on every channel, subscribed to what a Public Works driver posting does or does not match."""
    who = {
        "works_en": resident("webchat", "session-works"),
        "driver_es": resident("webchat", "session-driver"),
        "parks": resident("webchat", "session-parks"),
        "sms": resident("sms", "+15550104001"),
        "sms_stopped": resident("sms", "+15550104002", opted_out=True),
        "whatsapp_late": resident("whatsapp", "whatsapp:+15550104003", last_message_hours_ago=30),
    }
    await subscribe_to_jobs(who["works_en"], "webchat", "en", department="Public Works")
    await subscribe_to_jobs(who["works_en"], "webchat", "en", keyword="driver")  # two matches: still one alert
    await subscribe_to_jobs(who["driver_es"], "webchat", "es", keyword="chofer")
    await subscribe_to_jobs(who["parks"], "webchat", "en", department="Parks and Recreation")
    await subscribe_to_jobs(who["sms"], "sms", "en", department="Public Works")
    await subscribe_to_jobs(who["sms_stopped"], "sms", "en", keyword="driver")
    await subscribe_to_jobs(who["whatsapp_late"], "whatsapp", "es", department="Public Works")
    return who


def webchat_texts(sender_id: str) -> List[str]:
    with database().engine.begin() as connection:
        rows = connection.execute(
            sa.select(webchat_messages.c.payload).where(webchat_messages.c.sender_id == sender_id)
        )
        return [json.loads(row.payload)["text"] for row in rows]


def states() -> Dict[str, str]:
    with database().engine.begin() as connection:
        rows = connection.execute(sa.select(job_notifications.c.sender_id, job_notifications.c.state))
        return {row.sender_id: row.state for row in rows}


def register_channels() -> None:
    register_sender(WebChatSender())
    register_sender(TwilioSender(TwilioSettings.from_env()))


async def test_a_new_posting_alerts_exactly_the_matching_subscribers_once(site: FeedSite, cloud: FakeCloud):
    register_channels()
    who = await subscribers()
    assert (await refresh_jobs()) is not None  # the first read: its postings are the baseline, no alerts
    assert states() == {}

    document = shipped_document()
    document["itemListElement"] += [SNOWPLOW, LIFEGUARD, CLOSED]
    site.serve(document)
    await refresh_jobs()
    assert await deliver_job_alerts() == 3
    assert states() == {
        who["works_en"]: alerts.SENT,
        who["driver_es"]: alerts.SENT,
        who["sms"]: alerts.SENT,
        who["sms_stopped"]: alerts.SKIPPED,  # STOP on SMS
        who["whatsapp_late"]: alerts.SKIPPED,  # last message 30 hours ago: outside WhatsApp's window
    }
    (english,) = webchat_texts(who["works_en"])
    assert english.startswith("New City of Riverton job: Snowplow Driver (seasonal) (Public Works)")
    assert "https://www.riverton.gov/jobs/2027-0150" in english
    (spanish,) = webchat_texts(who["driver_es"])
    assert spanish.startswith("Nuevo empleo de la Ciudad de Riverton: Snowplow Driver (seasonal) (Obras Públicas)")
    assert webchat_texts(who["parks"]) == []
    sms = [call.body for call in cloud.calls("Messages.json")]
    assert [body["To"] for body in sms] == ["+15550104001"]
    assert "(Public Works)" not in sms[0]["Body"]  # the compact form

    # Read again, and again in a fresh process's state: nothing is sent twice.
    await refresh_jobs()
    assert await deliver_job_alerts() == 0
    reset_database()
    reset_limiters()
    await refresh_jobs()
    assert await deliver_job_alerts() == 0
    assert len(webchat_texts(who["works_en"])) == 1 and len(cloud.calls("Messages.json")) == 1


def serve_with_snowplow(site: FeedSite) -> None:
    """The city's feed with one new posting (a snow plow driver)."""
    document = shipped_document()
    document["itemListElement"].append(SNOWPLOW)
    site.serve(document)


async def snowplow_posted(site: FeedSite) -> Dict[str, str]:
    """The subscribers, after a first read of the feed and a second one with the snow plow posting."""
    register_channels()
    who = await subscribers()
    await refresh_jobs()
    serve_with_snowplow(site)
    await refresh_jobs()
    return who


async def test_an_alert_left_sending_by_a_dead_process_is_never_sent_again(site: FeedSite):
    who = await snowplow_posted(site)
    with database().engine.begin() as connection:  # claimed a while ago by a worker that then died
        connection.execute(
            job_notifications.update()
            .where(job_notifications.c.sender_id == who["works_en"])
            .values(state=alerts.SENDING, claimed_until=utcnow() - dt.timedelta(seconds=1))
        )
    await deliver_job_alerts()
    assert states()[who["works_en"]] == alerts.UNCONFIRMED and webchat_texts(who["works_en"]) == []
    assert states()[who["driver_es"]] == alerts.SENT


async def test_unsubscribed_meanwhile_or_posting_closed_meanwhile_is_skipped(site: FeedSite):
    who = await snowplow_posted(site)
    await unsubscribe_from_jobs(who["works_en"])
    await deliver_job_alerts(now=utcnow())
    assert states()[who["works_en"]] == alerts.SKIPPED
    assert await deliver_job_alerts(now=utcnow() + dt.timedelta(days=365 * 100)) == 0  # nothing left pending


async def test_the_broken_feed_changes_nothing_for_subscribers(site: FeedSite):
    register_channels()
    await subscribers()
    await refresh_jobs()
    site.serve(b"<html><body>Maintenance</body></html>", "text/html")
    assert await refresh_jobs() is None
    site.serve(shipped_document())  # the same postings back: none is new
    await refresh_jobs()
    assert states() == {}


async def test_the_loop_reads_and_delivers_until_stopped(site: FeedSite):
    register_channels()
    who = await subscribers()
    stop = asyncio.Event()
    loop = asyncio.ensure_future(jobs_loop(stop, every=0.1, deliver_every=0.05))
    await wait_for(lambda: len(site.reads) >= 1)
    serve_with_snowplow(site)
    await wait_for(lambda: len(webchat_texts(who["works_en"])) == 1)
    stop.set()
    await asyncio.wait_for(loop, 5)


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "JOBS_REFRESH_SECONDS": "0.2", "OUTBOX_POLL_SECONDS": "5", "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.process.worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    for _ in range(200):
        if worker.poll() is not None:
            return
        await asyncio.sleep(0.05)
    worker.kill()
    raise AssertionError("the worker did not stop on SIGTERM")


async def test_the_worker_restarted_alerts_each_new_posting_once(site: FeedSite):
    who = await subscribers()
    worker = start_worker()
    try:
        await wait_for(lambda: len(site.reads) >= 2, timeout=60)  # started and read the feed (the baseline)
        serve_with_snowplow(site)
        await wait_for(lambda: len(webchat_texts(who["works_en"])) == 1, timeout=30)
    finally:
        await stop_worker(worker)
    reads = len(site.reads)
    worker = start_worker()
    try:
        await wait_for(lambda: len(site.reads) >= reads + 3, timeout=60)  # several reads of the same feed
    finally:
        await stop_worker(worker)
    assert len(webchat_texts(who["works_en"])) == 1 and len(webchat_texts(who["driver_es"])) == 1
