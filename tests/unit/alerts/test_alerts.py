"""Crisis alerts: subscriptions, fan-out, SMS keywords, the rate limiter, the delivery job and the CLI.

The delivery job runs here against recording senders (in-process, fast); the
same job against the Telegram and Twilio APIs at the HTTP boundary, with a
crash and 10,000 subscribers, is in test_delivery.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pytest
import sqlalchemy as sa

from bot.alerts import approval, store
from bot.alerts.delivery.failures import is_permanent
from bot.alerts.delivery.job import DeliveryJob, run_delivery
from bot.alerts.delivery.lease import AlertBusy
from bot.alerts.delivery.settings import DeliverySettings
from bot.alerts.keywords import handle_alert_keyword, parse_alert_keyword
from bot.alerts.limiter import limit_for, new_limiter, rate_for
from bot.alerts.store import (
    ALL,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    UNCONFIRMED,
    AlertError,
    after_unsubscribe,
    alert_message,
)
from bot.alerts.words import normalize_topic, normalize_zone, topics_in, zones_in
from bot.channels.outbound import NotDeliverable
from bot.db.contacts import set_opted_out
from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from tests.support.alerts import AUTHOR, add_accounts, queued_alert
from tests.support.residents import Resident, add_residents

FAST = DeliverySettings(
    max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.05, lease_seconds=5, idle_poll_seconds=0.05
)
UNLIMITED = {"telegram": 0, "sms": 0, "whatsapp": 0, "webchat": 0}


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "alerts-test-key")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


def delivery_rows(alert_id: int) -> Dict[str, Any]:
    with database().engine.begin() as connection:
        rows = connection.execute(sa.select(deliveries).where(deliveries.c.alert_id == alert_id)).all()
    return {row.sender_id: row for row in rows}


@dataclass
class RecordingSender:
    """An OutboundSender that keeps what it was asked to send; failures can be scripted per address."""

    channel: str
    sent: List[Tuple[str, str]] = field(default_factory=list)
    failures: Dict[str, List[BaseException]] = field(default_factory=dict)
    delay: float = 0.0
    on_send: Optional[Any] = None

    async def send(self, address: str, text: str, buttons: Any = None) -> None:
        if self.on_send is not None:
            await self.on_send(address)
        queued = self.failures.get(address)
        if queued:
            raise queued.pop(0)
        self.sent.append((address, text))
        if self.delay:
            await asyncio.sleep(self.delay)  # the message has left; the answer is on its way

    def count(self, address: str) -> int:
        return sum(1 for a, _ in self.sent if a == address)


class Refused(Exception):
    """What a channel raises when it refuses a message for good (HTTP 400)."""

    status = 400


def wants(pairs: Iterable[Tuple[str, str]], topic: str, zone: str) -> bool:
    return any(t in (topic, ALL) and z in (zone, ALL) for t, z in pairs)


# --- words ----------------------------------------------------------------------------


def test_topics_and_zones_as_residents_say_them():
    assert normalize_topic("Boil Water") == "water"
    assert normalize_topic("road closures") == "roads"
    assert normalize_topic("storm") == "weather"
    assert normalize_topic("everything") == ALL
    assert normalize_topic("pizza") is None
    assert normalize_zone("the East side".replace("the ", "")) == "east"
    assert normalize_zone("Northside") == "north"
    assert normalize_zone("citywide") == ALL
    assert normalize_zone("downtown") is None
    assert topics_in("send me boil water notices and road closures for the north side") == ["water", "roads"]
    assert zones_in("send me boil water notices and road closures for the north side") == ["north"]
    assert topics_in("I just want to know about things") == []  # "about" is no topic, "now" no zone
    assert zones_in("what is the western union address") == ["west"]  # whole words only, as said


# --- subscriptions --------------------------------------------------------------------


async def test_subscribing_narrow_then_wide_keeps_one_row_per_need():
    change = await store.subscribe("sms-a", ["water"], ["north"])
    assert change.after == (("water", "north"),) and change.changed
    change = await store.subscribe("sms-a", None, ["north"])  # all topics in the North zone
    assert change.after == ((ALL, "north"),)
    again = await store.subscribe("sms-a", ["weather"], ["north"])  # already covered
    assert not again.changed and again.after == ((ALL, "north"),)
    assert await store.subscriptions_of("sms-a") == [(ALL, "north")]


async def test_unsubscribing_a_topic_or_zone_keeps_the_rest():
    await store.subscribe("tg-b")  # everything, citywide
    change = await store.unsubscribe("tg-b", ["water"])
    assert set(change.after) == {("weather", ALL), ("roads", ALL)}
    change = await store.unsubscribe("tg-b", None, ["north"])
    left = change.after
    for topic in ("weather", "roads"):
        for zone in ("east", "south", "west"):
            assert wants(left, topic, zone)
        assert not wants(left, topic, "north")
    assert not any(wants(left, "water", zone) for zone in ("north", "east", "south", "west"))
    stopped = await store.unsubscribe("tg-b")
    assert stopped.after == () and await store.subscriptions_of("tg-b") == []
    nothing = await store.unsubscribe("tg-b")
    assert nothing.before == () and not nothing.changed


def test_unsubscribing_leaves_untouched_wildcards_alone():
    assert after_unsubscribe({(ALL, "east"), ("water", "north")}, ["water"], ["north"]) == {(ALL, "east")}
    assert after_unsubscribe({(ALL, ALL)}, [ALL], ["south"]) == {(ALL, "north"), (ALL, "east"), (ALL, "west")}


async def test_unknown_topics_and_zones_are_refused():
    with pytest.raises(AlertError):
        await store.subscribe("x", ["pizza"])
    with pytest.raises(AlertError):
        await store.preview_alert("water", "downtown")
    with pytest.raises(AlertError):
        await queued_alert("water", "north", "warning", "   ")
    with pytest.raises(AlertError):
        await queued_alert("water", "north", "apocalyptic", "text")


# --- fan-out ----------------------------------------------------------------------------


def town() -> List[Resident]:
    return [
        Resident("sms-all", "sms", "+15550000001"),
        Resident("tg-water-north", "telegram", "1001", (("water", "north"),)),
        Resident("tg-weather-south", "telegram", "1002", (("weather", "south"),)),
        Resident("web-two-rows", "webchat", "s-3", (("weather", ALL), (ALL, "north"))),
        Resident("sms-stopped", "sms", "+15550000004", opted_out=True),
        Resident("rest-no-contact", "rest", "-", has_contact=False),
        Resident("wa-roads-west", "whatsapp", "whatsapp:+15550000005", (("roads", "west"),)),
    ]


async def test_an_alert_is_written_with_one_delivery_per_matching_reachable_subscriber():
    add_residents(town())
    preview = await store.preview_alert("weather", "north")
    assert preview.by_channel == {"sms": 1, "webchat": 1} and preview.opted_out == 1 and preview.total == 2
    alert = await queued_alert("weather", "north", "warning", "Severe storm tonight.")
    rows = delivery_rows(alert.id)
    assert set(rows) == {"sms-all", "web-two-rows"}  # one row although two subscriptions match
    assert all(row.state == PENDING and row.attempts == 0 for row in rows.values())
    assert rows["web-two-rows"].channel == "webchat"

    general = await queued_alert(ALL, "south", "emergency", "Shelter in place.")
    assert set(delivery_rows(general.id)) == {"sms-all", "tg-weather-south", "web-two-rows"}
    citywide_water = await queued_alert("water", ALL, "advisory", "Boil water.")
    assert set(delivery_rows(citywide_water.id)) == {"sms-all", "tg-water-north", "web-two-rows"}
    status = await store.alert_status(citywide_water.id)
    assert status.total == 3 and status.pending == 3 and not status.done


async def test_the_database_refuses_a_second_delivery_row_for_the_same_subscriber():
    add_residents(town())
    alert = await queued_alert("weather", "north", "warning", "Storm.")
    with pytest.raises(sa.exc.IntegrityError):
        with database().engine.begin() as connection:
            connection.execute(
                deliveries.insert().values(
                    alert_id=alert.id,
                    sender_id="sms-all",
                    channel="sms",
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=utcnow(),
                )
            )


def test_the_message_says_who_how_serious_where_and_how_to_stop():
    alert = store.Alert(
        1, "weather", "north", "emergency", "Tornado warning until 9 PM. Take shelter.", "ops", utcnow(), "queued"
    )
    text = alert_message(alert)
    assert text.startswith("City of Riverton EMERGENCY (North zone): Tornado warning until 9 PM.")
    assert "ALERTS OFF" in text
    citywide = store.Alert(2, "water", ALL, "advisory", "Boil water.", None, utcnow(), "queued")
    assert alert_message(citywide).startswith("City of Riverton advisory: Boil water.")


# --- SMS keywords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ALERTS ON", ("on", [], [])),
        ("alerts on water north", ("on", ["water"], ["north"])),
        ("Alerts: boil water, east side!", ("on", ["water"], ["east"])),
        ("ALERTS OFF", ("off", [], [])),
        ("stop alerts", ("off", [], [])),
        ("ALERTS OFF ROADS", ("off", ["roads"], [])),
        ("alerts", ("status", [], [])),
        ("STOP", None),  # the carrier's opt-out, never ours
        ("alerts about the flooding on my street?", None),  # a question for the assistant
        ("where are the cooling centers", None),
        ("", None),
    ],
)
def test_alert_keywords(text, expected):
    command = parse_alert_keyword(text)
    if expected is None:
        assert command is None
    else:
        assert (command.action, command.topics, command.zones) == expected


async def test_keywords_subscribe_narrow_report_and_stop():
    add_residents([Resident("sms-k", "sms", "+15550001111", pairs=())])
    assert await handle_alert_keyword("sms-k", "hello there") is None
    reply = await handle_alert_keyword("sms-k", "ALERTS ON WATER NORTH")
    assert "water alerts for the North zone" in reply and "ALERTS OFF" in reply and "STOP" in reply
    assert await store.subscriptions_of("sms-k") == [("water", "north")]
    reply = await handle_alert_keyword("sms-k", "alerts")
    assert "water alerts for the North zone" in reply
    reply = await handle_alert_keyword("sms-k", "ALERTS OFF")
    assert "off" in reply and await store.subscriptions_of("sms-k") == []
    reply = await handle_alert_keyword("sms-k", "ALERTS OFF")
    assert "weren't getting" in reply


# --- the rate limiter -----------------------------------------------------------------------
# The clock is read just before each acquire and just after it returns, so each message's
# real departure lies between the two readings. Spacing is checked from one message's
# "before" to the next one's "after": exact however late a busy machine runs the test,
# while a burst (two messages let through together) still shows.


@dataclass
class Departure:
    """The loop's clock just before a message asked to leave and just after it was let through."""

    asked: float
    left: float


def block_the_event_loop(seconds: float) -> None:
    """Keep the event loop busy (on purpose: no other task runs meanwhile)."""
    time.sleep(seconds)


async def departures(limiter: Any, count: int) -> List[Departure]:
    """Each of `count` messages sent one after the other."""
    loop = asyncio.get_running_loop()
    result = []
    for _ in range(count):
        asked = loop.time()
        await limiter.acquire()
        result.append(Departure(asked, loop.time()))
    return result


def spaced_at_least(sent: List[Departure], interval: float) -> bool:
    """No two consecutive messages left closer together than `interval`."""
    return all(later.left - earlier.asked >= interval for earlier, later in pairwise(sent))


async def test_the_limiter_spaces_messages_at_its_rate():
    sent = await departures(new_limiter(100), 41)
    assert sent[-1].left - sent[0].asked >= 0.4
    assert sent[-1].left - sent[0].asked < 1.0
    assert spaced_at_least(sent, 0.01)


async def test_after_a_pause_the_next_message_goes_at_once_and_zero_is_no_limit():
    limiter = new_limiter(10)
    await departures(limiter, 2)
    await asyncio.sleep(0.15)  # idle: the bucket has drained
    loop = asyncio.get_running_loop()
    start = loop.time()
    await limiter.acquire()
    assert loop.time() - start < 0.05
    unlimited = limit_for("testchannel", 0)
    assert unlimited.unlimited
    sent = await departures(unlimited.send, 100)
    assert sent[-1].left - sent[0].asked < 0.05


async def test_a_late_wake_up_does_not_turn_into_a_burst():
    """The loop is blocked for five intervals while a sender waits: no credit is owed for them."""
    limiter = new_limiter(50)
    loop = asyncio.get_running_loop()
    unblocked: List[float] = []

    async def blocker() -> None:
        await asyncio.sleep(0.005)  # the sender is waiting for its second turn
        block_the_event_loop(0.1)
        unblocked.append(loop.time())

    sent, _ = await asyncio.gather(departures(limiter, 8), blocker())
    after = [d.left for d in sent if d.left >= unblocked[0]]
    assert len(after) >= 5
    # The first may leave at once; each next one a full interval after the one before.
    assert all(left - unblocked[0] >= k * 0.02 for k, left in enumerate(after))


async def test_concurrent_senders_share_one_limiter_in_real_time():
    limiter = new_limiter(50)
    loop = asyncio.get_running_loop()
    sent: List[Departure] = []

    async def sender() -> None:
        sent.extend(await departures(limiter, 5))

    start = loop.time()
    await asyncio.gather(*(sender() for _ in range(4)))
    # 20 messages at 50/s: the 20th leaves at least 19 intervals after the first.
    assert max(d.left for d in sent) - start >= 19 * 0.02


def test_rates_come_from_the_environment():
    env = {"ALERT_RATE_TELEGRAM": "25", "ALERT_RATE_SMS": "0.5", "ALERT_RATE_WEBCHAT": "0"}
    assert rate_for("telegram", env) == 25 and rate_for("sms", env) == 0.5 and rate_for("webchat", env) == 0
    assert rate_for("whatsapp", {}) == 20 and rate_for("telegram", {}) == 30 and rate_for("sms", {}) == 1
    with pytest.raises(ValueError):
        rate_for("sms", {"ALERT_RATE_SMS": "fast"})
    with pytest.raises(ValueError):
        rate_for("sms", {"ALERT_RATE_SMS": "-1"})


# --- the delivery job with recording senders -----------------------------------------------------


def crowd(n: int, channel: str, prefix: str) -> List[Resident]:
    return [Resident(f"{prefix}-{i}", channel, f"{prefix}{i}") for i in range(n)]


async def test_every_subscriber_gets_the_alert_once_on_their_channel():
    add_residents(
        crowd(40, "telegram", "tg")
        + crowd(30, "sms", "sms")
        + crowd(20, "webchat", "web")
        + [Resident("sms-stop", "sms", "sms-stop", opted_out=True)]
    )
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    alert = await queued_alert(ALL, ALL, "warning", "Heat advisory.")
    seen: List[store.AlertStatus] = []
    status = await run_delivery(
        alert.id,
        seen.append,
        senders={"telegram": telegram, "sms": sms},
        rates=UNLIMITED,
        settings=FAST,
        progress_every=0.01,
    )
    assert (status.sent, status.failed, status.skipped, status.pending, status.total) == (90, 0, 0, 0, 90)
    assert status.done and status.alert.state == store.DONE and status.alert.lease_owner is None
    assert sorted(a for a, _ in telegram.sent) == sorted(f"tg{i}" for i in range(40))
    assert sorted(a for a, _ in sms.sent) == sorted(f"sms{i}" for i in range(30))
    assert "sms-stop" not in [a for a, _ in sms.sent]
    assert all(text == alert_message(alert) for _, text in telegram.sent + sms.sent)
    from bot.db.schema import webchat_messages

    with database().engine.begin() as connection:
        web = connection.execute(sa.select(webchat_messages)).all()
    assert sorted(row.sender_id for row in web) == sorted(f"web-{i}" for i in range(20))
    assert all(json.loads(row.payload)["text"] == alert_message(alert) and row.role == "bot" for row in web)
    assert seen[-1].done and seen[-1].sent == 90
    again = await run_delivery(alert.id, senders={"telegram": telegram, "sms": sms}, settings=FAST)
    assert again.sent == 90 and len(telegram.sent) == 40 and len(sms.sent) == 30  # nothing twice


async def test_temporary_failures_are_retried_and_permanent_ones_are_not():
    add_residents(crowd(5, "telegram", "tg"))
    telegram = RecordingSender(
        "telegram",
        failures={
            "tg0": [TimeoutError("slow"), ConnectionError("reset")],  # then works
            "tg1": [Refused("chat not found")],  # for good
            "tg2": [NotDeliverable("blocked")],  # unreachable: skipped
            "tg3": [TimeoutError("1"), TimeoutError("2"), TimeoutError("3")],  # more than max_attempts=3
        },
    )
    alert = await queued_alert(ALL, ALL, "info", "Test.")
    status = await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    rows = delivery_rows(alert.id)
    assert (rows["tg-0"].state, rows["tg-0"].attempts) == (SENT, 3)
    assert (rows["tg-1"].state, rows["tg-1"].attempts) == (FAILED, 1) and "chat not found" in rows["tg-1"].last_error
    assert (rows["tg-2"].state, rows["tg-2"].attempts) == (SKIPPED, 1)
    assert (rows["tg-3"].state, rows["tg-3"].attempts) == (FAILED, 3)
    assert (rows["tg-4"].state, rows["tg-4"].attempts) == (SENT, 1)
    assert telegram.count("tg0") == 1 and telegram.count("tg4") == 1
    assert (status.sent, status.failed, status.skipped, status.pending) == (2, 2, 1, 0)


def test_which_failures_are_permanent():
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    from bot.channels.twilio_rest import TwilioSendError

    assert is_permanent(Forbidden("Forbidden: bot was blocked by the user"))
    assert is_permanent(BadRequest("Chat not found"))
    assert is_permanent(TwilioSendError(400, 21211, "invalid 'To' number"))
    assert not is_permanent(TwilioSendError(500, None, "server error"))
    assert not is_permanent(TwilioSendError(429, None, "too many requests"))
    assert not is_permanent(TimedOut()) and not is_permanent(NetworkError("reset"))
    assert not is_permanent(RetryAfter(3))


async def test_residents_who_stop_or_unsubscribe_after_the_alert_was_written_are_skipped():
    add_residents(crowd(6, "sms", "sms"))
    alert = await queued_alert("water", ALL, "warning", "Boil water.")
    await set_opted_out("sms-0", True)  # STOP before the job started
    await store.unsubscribe("sms-1", ["water"])  # "stop water alerts"

    async def meanwhile(address: str) -> None:
        if address == "sms2":  # while the job runs, sms-5 texts STOP and sms-4 unsubscribes
            await set_opted_out("sms-5", True)
            await store.unsubscribe("sms-4")

    sms = RecordingSender("sms", on_send=meanwhile)
    limited = {"sms": 50}  # one at a time, so sms-4 and sms-5 come after sms-2
    status = await run_delivery(
        alert.id, senders={"sms": sms}, rates=limited, settings=DeliverySettings(concurrency=1, lease_seconds=5)
    )
    assert sorted(a for a, _ in sms.sent) == ["sms2", "sms3"]
    rows = delivery_rows(alert.id)
    assert {s: rows[s].last_error for s in ("sms-0", "sms-1", "sms-4", "sms-5")} == {
        "sms-0": "opted out",
        "sms-1": "unsubscribed",
        "sms-4": "unsubscribed",
        "sms-5": "opted out",
    }
    assert (status.sent, status.skipped) == (2, 4)


async def test_a_job_cancelled_mid_send_resumes_without_sending_anything_twice():
    add_residents(crowd(60, "telegram", "tg"))
    twentieth = asyncio.Event()
    leaving: List[str] = []

    async def count(address: str) -> None:
        if len(telegram.sent) == 19:
            leaving.append(address)
            twentieth.set()  # the 20th message is about to leave

    telegram = RecordingSender("telegram", delay=0.05, on_send=count)  # 50 ms from leaving to the answer
    alert = await queued_alert(ALL, ALL, "warning", "Storm.")
    job = asyncio.ensure_future(
        run_delivery(
            alert.id,
            senders={"telegram": telegram},
            rates=UNLIMITED,
            settings=DeliverySettings(concurrency=4, lease_seconds=5),
        )
    )
    await twentieth.wait()
    job.cancel()  # while the 20th (and maybe others) is on its way
    with pytest.raises(asyncio.CancelledError):
        await job
    rows = delivery_rows(alert.id)
    in_doubt = {s for s, row in rows.items() if row.state == UNCONFIRMED}
    # The messages on their way when it stopped (the 20th among them) may have arrived: unconfirmed.
    assert leaving[0].replace("tg", "tg-") in in_doubt and len(in_doubt) <= 4
    assert not any(row.state == SENDING for row in rows.values())  # claimed, not yet sent: pending again
    assert all(row.attempts == 0 for row in rows.values() if row.state == PENDING)
    status = await store.alert_status(alert.id)
    assert status.alert.lease_owner is None and status.pending > 0

    resumed = await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert sorted(a for a, _ in telegram.sent) == sorted(f"tg{i}" for i in range(60))  # each exactly once
    assert resumed.sent + resumed.unconfirmed == 60 and resumed.unconfirmed == len(in_doubt) and resumed.done

    # Staff may choose to send the unconfirmed ones again (those residents then get it twice).
    assert await approval.resend_unconfirmed(alert.id, AUTHOR) == len(in_doubt)
    final = await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert final.sent == 60 and final.unconfirmed == 0
    assert len(telegram.sent) == 60 + len(in_doubt)


async def test_one_job_at_a_time_per_alert_and_a_dead_jobs_lease_runs_out():
    add_residents(crowd(3, "telegram", "tg"))
    alert = await queued_alert(ALL, ALL, "info", "Test.")
    dead = DeliveryJob(alert.id, senders={}, settings=DeliverySettings(lease_seconds=1))
    await store.run(dead.lease.take)  # a job that took the alert, then its process died
    telegram = RecordingSender("telegram")
    with pytest.raises(AlertBusy):
        await run_delivery(alert.id, senders={"telegram": telegram}, settings=FAST)
    assert telegram.sent == []
    await asyncio.sleep(1.1)  # its lease runs out
    status = await run_delivery(alert.id, senders={"telegram": telegram}, settings=FAST)
    assert status.sent == 3

    other = await queued_alert(ALL, ALL, "info", "Again.")
    await store.run(DeliveryJob(other.id, senders={}, settings=DeliverySettings(lease_seconds=60)).lease.take)
    taken = await run_delivery(other.id, senders={"telegram": telegram}, settings=FAST, takeover=True)
    assert taken.sent == 3


async def test_a_channel_not_configured_here_waits_and_is_delivered_later():
    add_residents(crowd(2, "telegram", "tg") + crowd(2, "sms", "sms"))
    alert = await queued_alert(ALL, ALL, "info", "Test.")
    sms = RecordingSender("sms")
    status = await run_delivery(alert.id, senders={"sms": sms}, settings=FAST)
    assert (status.sent, status.pending) == (2, 2) and status.alert.state == store.DELIVERING
    from bot.alerts.delivery.loop import unfinished_alerts

    assert await unfinished_alerts() == [alert.id]
    telegram = RecordingSender("telegram")
    status = await run_delivery(alert.id, senders={"sms": sms, "telegram": telegram}, settings=FAST)
    assert (status.sent, status.pending, status.alert.state) == (4, 0, store.DONE)
    assert len(sms.sent) == 2 and len(telegram.sent) == 2
    assert await unfinished_alerts() == []


async def test_a_cancelled_alert_sends_nothing_more():
    add_residents(crowd(3, "telegram", "tg"))
    alert = await queued_alert(ALL, ALL, "info", "Wrong text.")
    status = await approval.cancel_alert(alert.id, AUTHOR)
    assert status.skipped == 3 and status.alert.state == store.CANCELLED
    telegram = RecordingSender("telegram")
    status = await run_delivery(alert.id, senders={"telegram": telegram}, settings=FAST)
    assert telegram.sent == [] and status.alert.state == store.CANCELLED
    with pytest.raises(AlertError):
        await store.alert_status(9999)


# --- FAQ links --------------------------------------------------------------------------------


def test_an_alert_can_link_the_faq_answer_for_the_crisis(monkeypatch):
    from bot.alerts.faq import faq_answer, faq_url

    monkeypatch.setenv("PUBLIC_URL", "https://311.riverton.example/")
    assert faq_url("cooling_warming_centers") == "https://311.riverton.example/faq/cooling_warming_centers"
    assert "Cooling centers open" in faq_answer("cooling_warming_centers")
    with pytest.raises(ValueError):
        faq_url("no_such_topic")
    monkeypatch.delenv("PUBLIC_URL")
    with pytest.raises(ValueError):
        faq_url("cooling_warming_centers")


def test_the_faq_page_shows_the_answer_and_nothing_else():
    from bot.alerts.faq_page import faq_page

    page = faq_page("cooling_warming_centers")
    assert page.status == 200 and b"Cooling centers open" in page.body and b"City of Riverton" in page.body
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert faq_page("../../etc/passwd").status == 404
    assert faq_page("nope").status == 404


def test_the_faq_page_says_what_staff_published_in_its_language():
    from bot.alerts.faq_page import faq_page
    from bot.answers.published import PUBLISHED

    PUBLISHED.replace({("utter_faq/cooling_warming_centers", "es"): "Centros abiertos <hoy> de 10 a. m. a 8 p. m."})
    try:
        spanish = faq_page("cooling_warming_centers", "es")
        assert b"Centros abiertos &lt;hoy&gt; de 10 a. m. a 8 p. m." in spanish.body
        assert b"Cooling centers open" in faq_page("cooling_warming_centers", "en").body  # as trained
    finally:
        PUBLISHED.replace({})


# --- the CLI --------------------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> Tuple[int, str]:
    """Exit code, and what the command printed (its errors too)."""
    from bot.alerts.cli import main

    code = main(list(argv))
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def audit_lines() -> List[Tuple[str, str, str]]:
    from bot.db.schema import audit_log

    with database().engine.begin() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    return [(row.actor, row.action, row.detail) for row in rows]


BOIL = ["--topic", "water", "--zone", "north", "--severity", "advisory", "--text", "Boil water before drinking."]


def test_staff_write_approve_send_and_follow_an_alert_from_the_cli(capsys):
    add_accounts("dana", "lee")
    add_residents(crowd(5, "webchat", "web") + [Resident("sms-stop", "sms", "+15550009999", opted_out=True)])
    code, out = run_cli(
        capsys,
        "subscribe-test",
        "--channel",
        "webchat",
        "--address",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "--topic",
        "water",
        "--zone",
        "north",
    )
    assert code == 0 and "water alerts for the North zone" in out
    code, out = run_cli(capsys, "preview", "--topic", "water", "--zone", "north", "--no-channels")
    assert code == 0 and "reach 6 resident(s)" in out and "webchat   6" in out and "1 matching" in out

    code, out = run_cli(capsys, "create", *BOIL, "--by", "Dana")
    assert code == 0, out
    assert "English readers will read:\n  City of Riverton advisory (North zone): Boil water" in out
    assert "Recipients: 6 (webchat 6)" in out and "Alert 1 is a draft by dana" in out
    # The author alone cannot send it, nor approve it; nothing went out.
    code, out = run_cli(capsys, "send", "1", "--by", "dana", "--yes")
    assert code == 2 and "alert 1 needs a second supervisor's approval before it is sent. You wrote it" in out
    code, out = run_cli(capsys, "approve", "1", "--by", "dana", "--yes")
    assert code == 2 and "you wrote alert 1: a second supervisor must approve it" in out
    code, out = run_cli(capsys, "approve", "1", "--by", "nobody", "--yes")
    assert code == 2 and "there is no staff account 'nobody'" in out
    assert asyncio.run(store.alert_status(1)).total == 0
    code, out = run_cli(capsys, "approve", "1", "--by", "lee")  # no terminal to ask, no --yes
    assert code == 1 and "Not approved: add --yes" in out
    code, out = run_cli(capsys, "approve", "1", "--by", "lee", "--yes")
    assert code == 0 and "Alert 1 approved by lee" in out and "Boil water before drinking." in out

    code, out = run_cli(capsys, "send", "1", "--by", "dana", "--yes")
    assert code == 0, out
    assert "approved by lee" in out and "Recipients: 6 (webchat 6)" in out and "100%" in out and "sent 6" in out
    code, out = run_cli(capsys, "send", "1", "--by", "dana", "--yes")
    assert code == 2 and "alert 1 was sent already" in out
    code, out = run_cli(capsys, "status")
    assert code == 0 and "sent 6/6" in out and "Boil water" in out
    code, out = run_cli(capsys, "status", "1", "--json")
    sent = json.loads(out)
    assert sent["sent"] == 6 and (sent["alert"]["created_by"], sent["alert"]["approved_by"]) == ("dana", "lee")
    assert sent["alert"]["sent_by"] == "dana" and sent["alert"]["revision"] == 1
    assert [(actor, action) for actor, action, _ in audit_lines()] == [
        ("dana", "alert_draft"),
        ("lee", "alert_approve"),
        ("dana", "alert_send"),
    ]
    assert all("Boil" not in detail and "web-" not in detail for _, _, detail in audit_lines())
    assert audit_lines()[1][2] == "alert 1 r1 (advisory, water/north), written by dana [command line]"
    code, out = run_cli(
        capsys,
        "subscribe-test",
        "--channel",
        "webchat",
        "--address",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "--remove",
    )
    assert code == 0 and "no alerts" in out


def test_only_an_admin_sends_without_approval_and_says_so(capsys):
    add_accounts("dana")
    add_accounts("root", role="admin")
    add_accounts("gone", role="admin", disabled=True)
    add_residents(crowd(3, "webchat", "web"))
    code, out = run_cli(capsys, "send", *BOIL, "--by", "root", "--yes")
    assert code == 2 and "needs a second supervisor's approval" in out and "--without-approval" in out
    code, out = run_cli(capsys, "send", *BOIL, "--without-approval", "--by", "dana", "--yes")
    assert code == 2 and "dana has the supervisor role: only administrators may do this" in out
    code, out = run_cli(capsys, "send", *BOIL, "--without-approval", "--by", "gone", "--yes")
    assert code == 2 and "is disabled" in out
    assert asyncio.run(store.list_alerts()) == []  # nothing written by a refused override

    code, out = run_cli(capsys, "send", *BOIL, "--without-approval", "--by", "root", "--yes", "--quiet")
    assert code == 0 and "sent 3" in out, out
    code, out = run_cli(capsys, "create", *BOIL, "--by", "dana")
    assert code == 0
    code, out = run_cli(capsys, "send", "2", "--without-approval", "--by", "root", "--yes", "--no-wait")
    assert code == 0 and "not approved yet" in out
    code, out = run_cli(capsys, "status", "2")
    assert "sent by root WITHOUT approval (admin override)" in out
    assert [
        (actor, action, detail.endswith("(admin override) [command line]")) for actor, action, detail in audit_lines()
    ] == [
        ("root", "alert_draft", False),
        ("root", "alert_send_unapproved", True),
        ("dana", "alert_draft", False),
        ("root", "alert_send_unapproved", True),
    ]


def test_the_cli_cancels_and_resumes_as_a_named_supervisor(capsys):
    add_residents(crowd(3, "webchat", "web"))
    alert = asyncio.run(queued_alert(ALL, ALL, "info", "Test."))
    code, out = run_cli(capsys, "cancel", str(alert.id), "--by", "ops")
    assert code == 0 and "skipped 3" in out
    code, out = run_cli(capsys, "resume", str(alert.id), "--quiet")
    assert code == 2 and "--by NAME" in out
    code, out = run_cli(capsys, "resume", str(alert.id), "--by", "ops-second", "--quiet")
    assert code == 0 and "resumed" in out and "sent 3" in out
    assert [action for _, action, _ in audit_lines()][-2:] == ["alert_cancel", "alert_resume"]


def test_the_cli_refuses_bad_input_without_writing_anything(capsys):
    from bot.alerts.cli import main

    add_accounts("dana")
    alert = ["create", "--topic", "water", "--zone", "north", "--severity", "warning"]
    assert main([*alert, "--text", " ", "--by", "dana"]) == 2
    with pytest.raises(SystemExit):  # who writes it is not optional
        main([*alert, "--text", "x"])
    assert main([*alert, "--text", "x", "--by", "someone"]) == 2  # no such account
    # No terminal to ask and no --yes: nothing is sent.
    add_accounts("root", role="admin")
    assert main(["send", *alert[1:], "--text", "x", "--without-approval", "--by", "root"]) == 1
    assert main(["status", "42"]) == 2
    assert asyncio.run(store.list_alerts()) == []


def test_the_progress_line():
    from bot.alerts.cli import progress_line

    status = store.AlertStatus(
        store.Alert(1, "water", ALL, "warning", "x", None, utcnow(), "sending"),
        {"sms": {"sent": 50, "pending": 40, "failed": 2}, "telegram": {"sent": 6, "skipped": 2}},
    )
    line = progress_line(status, width=10)
    assert line.startswith("[######....]  60%  60/100") and "sent 56" in line and "failed 2" in line
    assert "skipped 2" in line and "pending 40" in line


# --- what a message costs the limiter ---------------------------------------------------------


def test_sms_is_counted_in_segments_other_channels_in_messages():
    from bot.alerts.segments import sends_per_message, sms_segments

    assert [sms_segments("a" * n) for n in (1, 160, 161, 306, 307)] == [1, 1, 2, 2, 3]
    assert sms_segments("Boil water: don’t drink") == 1 and sms_segments("’" * 71) == 2  # UCS-2 above 70
    assert sms_segments("{" * 80) == 1 and sms_segments("{" * 81) == 2  # GSM extension characters count twice
    text = "Water main break on Oak Street. " * 10  # 320 characters
    assert sends_per_message("sms", text) == 3
    assert sends_per_message("whatsapp", text) == 1 and sends_per_message("telegram", text) == 1
    assert sends_per_message("webchat", text) == 1


async def test_a_long_sms_alert_spends_one_token_per_segment():
    add_residents(crowd(5, "sms", "sms"))
    alert = await queued_alert(ALL, ALL, "warning", "Water main break on Oak Street. " * 6)
    sms = RecordingSender("sms")
    loop = asyncio.get_running_loop()
    started = loop.time()
    status = await run_delivery(alert.id, senders={"sms": sms}, rates={"sms": 40}, settings=FAST)
    elapsed = loop.time() - started
    assert status.sent == 5
    # 5 messages of 2 segments at 40 segments/s: the last leaves 9 intervals after the first.
    assert elapsed >= 9 / 40


async def test_a_gentle_stop_finishes_what_is_on_its_way_and_leaves_the_rest_pending():
    add_residents(crowd(40, "telegram", "tg"))
    ten_sent = asyncio.Event()

    async def count_sent(_address: str) -> None:
        if len(telegram.sent) >= 9:  # just before a send is recorded: the tenth sees nine
            ten_sent.set()

    telegram = RecordingSender("telegram", delay=0.05, on_send=count_sent)
    alert = await queued_alert(ALL, ALL, "warning", "Storm.")
    stop = asyncio.Event()
    job = asyncio.ensure_future(
        run_delivery(
            alert.id,
            senders={"telegram": telegram},
            rates=UNLIMITED,
            settings=DeliverySettings(concurrency=4, lease_seconds=5),
            stop=stop,
        )
    )
    await ten_sent.wait()
    stop.set()
    status = await job
    assert status.unconfirmed == 0 and status.sent == len(telegram.sent) and status.pending == 40 - status.sent
    assert status.alert.state == store.DELIVERING and status.alert.lease_owner is None
    final = await run_delivery(alert.id, senders={"telegram": telegram}, rates=UNLIMITED, settings=FAST)
    assert final.sent == 40 and sorted(a for a, _ in telegram.sent) == sorted(f"tg{i}" for i in range(40))


async def test_the_workers_loop_delivers_alerts_written_elsewhere_and_stops_gently():
    from bot.alerts.delivery.loop import alert_loop

    add_residents(crowd(5, "telegram", "tg") + crowd(5, "sms", "sms"))
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms", delay=0.01)
    first = await queued_alert("weather", ALL, "warning", "Storm.")
    second = await queued_alert("water", ALL, "advisory", "Boil water.")
    stop = asyncio.Event()
    loop_task = asyncio.ensure_future(
        alert_loop(stop, every=0.05, senders={"telegram": telegram, "sms": sms}, rates=UNLIMITED, settings=FAST)
    )
    for _ in range(400):
        done = [await store.alert_status(a.id) for a in (first, second)]
        if all(s.alert.state == store.DONE for s in done):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(loop_task, 10)
    assert [s.sent for s in done] == [10, 10]
    assert len(telegram.sent) == 10 and len(sms.sent) == 10
