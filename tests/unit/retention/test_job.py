"""The retention job on real databases: what is older than the limit goes, what must stay stays.

Every test stores a set of conversations in Rasa's SQL tracker store (through
the project's tracker store, as the Rasa server does) and in the assistant's
tables, on SQLite (var/rasa.db and var/citybot.db) and on the local
PostgreSQL (one database for both, as with DATABASE_URL), then runs the job
90 days (the city's promise) after some of them.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bench.databases import create_database, drop_database
from bot.channels.identity import channel_of, is_anonymous_sender_id
from bot.dashboard.figures import build_table
from bot.dashboard.period import Period
from bot.db.engine import database, default_tracker_url, reset_database
from bot.db.schema import (
    alert_deliveries,
    alert_subscriptions,
    alerts,
    contacts,
    handoff_notes,
    handoffs,
    metadata,
    report_outbox,
    report_subscriptions,
    resident_languages,
    retention_holds,
    sms_choices,
    status_notifications,
    update_fallbacks,
    webchat_messages,
)
from bot.open311.models import ServiceRequest
from bot.rasa_ext.tracker_store import CachedSQLTrackerStore
from bot.reports.updates.store import record_changes
from bot.retention.events import events
from bot.retention.job import run_retention
from bot.survey import store as survey_store
from tests.support.tracker_store import tracker_store_settings

ROOT = Path(__file__).resolve().parents[3]
POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=100)  # past the city's 90 days
RECENT = NOW - timedelta(days=10)
ADDRESS = "12 Willow Lane"  # what a resident wrote: must not survive anywhere
PHONE = "+15550104477"

# The conversations (ids as the channels make them: channel, dash, 24 hex digits).
FORGOTTEN = "sms-" + "a" * 24  # old, its request closed: everything goes
RECENT_ONE = "webchat-" + "b" * 24  # in touch 10 days ago: all stays
OPEN_REQUEST = "telegram-" + "c" * 24  # old, its filed request still open: all stays
IN_OUTBOX = "sms-" + "d" * 24  # old, its report still waiting for the back office: all stays
ON_HOLD = "webchat-" + "e" * 24  # old, held by staff: all stays
LONG_LIVED = "telegram-" + "f" * 24  # an old session and a new one: the old session goes, the new stays
SUBSCRIBER = "sms-" + "9" * 24  # old, subscribed to alerts: transcripts go, how to reach them stays
WEB_OLD = "webchat-" + "8" * 24  # old web chat: its messages go
EVERY = [FORGOTTEN, RECENT_ONE, OPEN_REQUEST, IN_OUTBOX, ON_HOLD, LONG_LIVED, SUBSCRIBER, WEB_OLD]
KEPT_WHOLE = [RECENT_ONE, OPEN_REQUEST, IN_OUTBOX, ON_HOLD]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@dataclass
class Databases:
    tracker_store: CachedSQLTrackerStore
    tracker: sa.engine.Engine


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, domain: Domain
) -> Iterator[Databases]:
    """The assistant's database and Rasa's, as `citybot run` configures them (SQLite files, or DATABASE_URL)."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    url = None
    if request.param == "sqlite":
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        url = create_database(POSTGRES_URL, "citybot_test_retention")
        monkeypatch.setenv("DATABASE_URL", url)
    reset_database()
    tracker_store = CachedSQLTrackerStore(domain=domain, **tracker_store_settings(default_tracker_url()))
    tracker = sa.create_engine(default_tracker_url())
    try:
        yield Databases(tracker_store, tracker)
    finally:
        tracker.dispose()
        tracker_store.engine.dispose()
        reset_database()
        if url:
            drop_database(POSTGRES_URL, url)


# --- storing the conversations -------------------------------------------------------------


def conversation(at: datetime, language: str = "es", channel: str = "sms") -> List[Event]:
    """One session: a resident reporting a pothole at their address, in `language`."""
    ts = at.timestamp()
    return [
        ActionExecuted("action_session_start", timestamp=ts),
        SessionStarted(timestamp=ts),
        ActionExecuted("action_listen", timestamp=ts),
        SlotSet("language", language, timestamp=ts + 1),
        UserUttered(
            f"pothole at {ADDRESS}, call me at {PHONE}",
            {"name": "report_problem", "confidence": 0.97},
            [{"entity": "location", "value": ADDRESS}],
            {
                "intent": {"name": "report_problem", "confidence": 0.97},
                "entities": [{"entity": "location", "value": ADDRESS}],
                "text": f"pothole at {ADDRESS}",
            },
            timestamp=ts + 1,
            input_channel=channel,
            metadata={"phone": PHONE},
        ),
        SlotSet("location", ADDRESS, timestamp=ts + 2),
        SlotSet("service_code", "POTHOLE", timestamp=ts + 2),
        BotUttered(f"Is the pothole at {ADDRESS}?", {"buttons": [{"title": ADDRESS}]}, {"utter_action": "x"}, ts + 3),
        ActionExecuted("action_listen", timestamp=ts + 3),
    ]


async def store_events(databases: Databases, sender_id: str, sessions: List[datetime], domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(sender_id, [], slots=domain.slots)
    for at in sessions:
        for event in conversation(at, channel=channel_of(sender_id)):
            tracker.update(event)
    await databases.tracker_store.save(tracker)


def store_rows(sender_id: str, at: datetime) -> None:
    """What the assistant's own tables hold of a conversation last in touch at `at`."""
    channel = channel_of(sender_id)
    with database().engine.begin() as connection:
        connection.execute(
            contacts.insert().values(
                sender_id=sender_id, channel=channel, address=PHONE, opted_out=False, updated_at=at
            )
        )
        connection.execute(resident_languages.insert().values(sender_id=sender_id, language="es", updated_at=at))
        connection.execute(
            update_fallbacks.insert().values(sender_id=sender_id, channel="sms", address=PHONE, given_at=at)
        )
        if channel == "sms":
            connection.execute(sms_choices.insert().values(sender_id=sender_id, payloads='["/affirm"]', updated_at=at))
        if channel == "webchat":
            connection.execute(
                webchat_messages.insert().values(
                    sender_id=sender_id, role="user", payload=json.dumps({"text": ADDRESS}), created_at=at
                )
            )
        handoff_id = connection.execute(
            handoffs.insert().values(
                sender_id=sender_id, channel=channel, reason="asked", state="resolved", created_at=at, updated_at=at
            )
        ).inserted_primary_key[0]
        connection.execute(
            handoff_notes.insert().values(
                handoff_id=handoff_id, author="dana", text=f"lives at {ADDRESS}", created_at=at
            )
        )


def file_report(sender_id: str, at: datetime, state: str, request_id: str, status: str) -> None:
    """A report the resident filed, and the request they follow with the status last read."""
    with database().engine.begin() as connection:
        connection.execute(
            report_outbox.insert().values(
                reference=f"R-{request_id}",
                idempotency_key=f"key-{request_id}",
                sender_id=sender_id,
                service_code="POTHOLE",
                fields=json.dumps({"description": f"pothole at {ADDRESS}", "phone": PHONE}),
                state=state,
                attempts=1,
                next_attempt_at=at,
                created_at=at,
                service_request_id=request_id if state == "filed" else None,
                resident_told=True,
            )
        )
        if state == "filed":
            connection.execute(
                report_subscriptions.insert().values(
                    sender_id=sender_id, service_request_id=request_id, last_status=status, created_at=at
                )
            )
            connection.execute(
                status_notifications.insert().values(
                    sender_id=sender_id,
                    service_request_id=request_id,
                    change_key=f"{status}|",
                    text=f"Your pothole report at {ADDRESS} is {status}",
                    state="sent",
                    created_at=at,
                )
            )


def subscribe_to_alerts(sender_id: str, at: datetime) -> None:
    with database().engine.begin() as connection:
        alert_id = connection.execute(
            alerts.insert().values(topic="water", zone="north", severity="info", text="t", created_at=at, state="done")
        ).inserted_primary_key[0]
        connection.execute(
            alert_subscriptions.insert().values(sender_id=sender_id, topic="water", zone="north", created_at=at)
        )
        for alert_for in (sender_id, FORGOTTEN):
            connection.execute(
                alert_deliveries.insert().values(
                    alert_id=alert_id, sender_id=alert_for, channel="sms", state="sent", next_attempt_at=at, attempts=1
                )
            )


def hold(sender_id: str) -> None:
    with database().engine.begin() as connection:
        connection.execute(
            retention_holds.insert().values(conversation_id=sender_id, held_by="dana", reason="legal", held_at=RECENT)
        )


async def store_everything(databases: Databases, domain: Domain) -> None:
    for sender_id in EVERY:
        last = RECENT if sender_id == RECENT_ONE else OLD
        sessions = [OLD, RECENT] if sender_id == LONG_LIVED else [last]
        await store_events(databases, sender_id, sessions, domain)
        store_rows(sender_id, RECENT if sender_id in (RECENT_ONE, LONG_LIVED) else last)
    file_report(FORGOTTEN, OLD, "filed", "1001", "closed")
    file_report(OPEN_REQUEST, OLD, "filed", "1002", "open")
    file_report(IN_OUTBOX, OLD, "pending", "1003", "")
    hold(ON_HOLD)
    subscribe_to_alerts(SUBSCRIBER, OLD)


# --- reading them back -------------------------------------------------------------------


def tracker_rows(databases: Databases) -> List[Dict[str, Any]]:
    with databases.tracker.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(events).order_by(events.c.id))]


def app_rows() -> Dict[str, List[Dict[str, Any]]]:
    with database().engine.connect() as connection:
        return {
            name: sorted((dict(row._mapping) for row in connection.execute(sa.select(table))), key=repr)
            for name, table in metadata.tables.items()
        }


def senders(table: sa.Table, column: str = "sender_id") -> List[str]:
    with database().engine.connect() as connection:
        return sorted(row[0] for row in connection.execute(sa.select(table.c[column])))


def daily_conversations(databases: Databases) -> Counter:
    """Conversations per day, channel and language, counted from the stored events as a dashboard would."""
    language: Dict[str, str] = {}
    days: Dict[str, set] = {}
    for row in tracker_rows(databases):
        data = json.loads(row["data"])
        if row["type_name"] == "slot" and data.get("name") == "language":
            language[row["sender_id"]] = data["value"]
        if row["type_name"] == "user":
            day = datetime.fromtimestamp(row["timestamp"], tz=timezone.utc).date()
            days.setdefault(row["sender_id"], set()).add(day)
    return Counter(
        (day, channel_of(sender_id), language.get(sender_id)) for sender_id, seen in days.items() for day in seen
    )


def events_of(databases: Databases, sender_id: str) -> List[Dict[str, Any]]:
    return [row for row in tracker_rows(databases) if row["sender_id"] == sender_id]


# --- the tests ---------------------------------------------------------------------------


async def test_only_what_is_older_than_the_limit_and_unprotected_goes(databases: Databases, domain: Domain) -> None:
    await store_everything(databases, domain)
    kept_events = {sender_id: events_of(databases, sender_id) for sender_id in KEPT_WHOLE}
    counts_before = daily_conversations(databases)

    counts = await run_retention(now=NOW)

    assert (counts.kept_on_hold, counts.kept_for_open_request, counts.kept_for_open_handoff) == (1, 2, 0)
    assert counts.residents_forgotten == 2  # FORGOTTEN and WEB_OLD; the subscriber stays reachable
    # kept whole: their events, contacts, languages, notes untouched
    for sender_id, rows in kept_events.items():
        assert events_of(databases, sender_id) == rows, sender_id
    assert senders(contacts) == sorted([*KEPT_WHOLE, LONG_LIVED, SUBSCRIBER])
    assert senders(resident_languages) == sorted([*KEPT_WHOLE, LONG_LIVED, SUBSCRIBER])
    assert senders(update_fallbacks) == sorted([*KEPT_WHOLE, LONG_LIVED, SUBSCRIBER])
    assert senders(sms_choices) == [IN_OUTBOX]  # the others' choices were older than the limit
    assert senders(webchat_messages) == sorted([ON_HOLD, RECENT_ONE])
    assert senders(report_subscriptions) == [OPEN_REQUEST]
    assert senders(status_notifications) == [OPEN_REQUEST]
    assert senders(retention_holds, "conversation_id") == [ON_HOLD]
    assert len(senders(handoff_notes, "author")) == len(KEPT_WHOLE) + 1  # and LONG_LIVED's recent note

    # forgotten: no event, row or report left under their ids, nothing they wrote anywhere
    for sender_id in (FORGOTTEN, WEB_OLD, SUBSCRIBER):
        assert events_of(databases, sender_id) == []
    every_id = senders(handoffs) + senders(report_outbox) + senders(alert_deliveries)
    assert FORGOTTEN not in every_id and WEB_OLD not in every_id
    assert SUBSCRIBER in senders(alert_deliveries)  # still subscribed, still theirs
    (report,) = [row for row in app_rows()["report_outbox"] if row["reference"] == "R-1001"]
    assert is_anonymous_sender_id(report["sender_id"]) and channel_of(report["sender_id"]) == "sms"
    assert json.loads(report["fields"]) == {} and report["state"] == "filed"
    forgotten_rows = [row for row in tracker_rows(databases) if is_anonymous_sender_id(row["sender_id"])]
    assert {channel_of(row["sender_id"]) for row in forgotten_rows} == {"sms", "webchat", "telegram"}
    assert not any(ADDRESS in str(row["data"]) or PHONE in str(row["data"]) for row in forgotten_rows)

    # the conversation still in use keeps its latest session whole; its older session is anonymised
    latest = events_of(databases, LONG_LIVED)
    assert [row["timestamp"] for row in latest] == [e.timestamp for e in conversation(RECENT)]
    assert ADDRESS in latest[4]["data"]  # Rasa still reads it as it was
    assert counts.events_anonymised == 4 * len(conversation(OLD))  # three conversations and an old session

    # the dashboard's figures: the same conversations per day, channel and language
    assert daily_conversations(databases) == counts_before


async def test_a_second_run_finds_nothing_more(databases: Databases, domain: Domain) -> None:
    await store_everything(databases, domain)
    await run_retention(now=NOW)
    before = (tracker_rows(databases), app_rows())
    again = await run_retention(now=NOW)
    assert (tracker_rows(databases), app_rows()) == before
    assert again.events_anonymised == again.residents_forgotten == again.webchat_messages_deleted == 0


async def test_a_dry_run_changes_nothing_and_counts_what_a_run_does(databases: Databases, domain: Domain) -> None:
    await store_everything(databases, domain)
    before = (tracker_rows(databases), app_rows())
    dry = await run_retention(dry_run=True, now=NOW)
    assert (tracker_rows(databases), app_rows()) == before
    done = await run_retention(now=NOW)
    assert dry == done and done.events_anonymised > 0


async def test_released_and_closed_conversations_go_on_the_next_run(databases: Databases, domain: Domain) -> None:
    await store_everything(databases, domain)
    await run_retention(now=NOW)
    with database().engine.begin() as connection:
        connection.execute(retention_holds.delete())
        connection.execute(report_subscriptions.update().values(last_status="closed"))  # the city closed 1002
    counts = await run_retention(now=NOW)
    assert counts.kept_on_hold == 0 and counts.kept_for_open_request == 1  # only the report still in the outbox
    assert events_of(databases, ON_HOLD) == events_of(databases, OPEN_REQUEST) == []
    assert events_of(databases, IN_OUTBOX) != []


async def test_anonymised_events_still_load_as_a_rasa_conversation(databases: Databases, domain: Domain) -> None:
    await store_events(databases, FORGOTTEN, [OLD], domain)
    await run_retention(now=NOW)
    (anonymous,) = {row["sender_id"] for row in tracker_rows(databases)}
    tracker = await databases.tracker_store.retrieve(anonymous)
    assert tracker is not None and tracker.get_slot("language") == "es"
    assert tracker.get_slot("location") is None and tracker.latest_message.text is None
    assert tracker.latest_message.intent["name"] == "report_problem"


async def test_a_shorter_limit_from_the_environment(
    databases: Databases, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_events(databases, RECENT_ONE, [RECENT], domain)
    assert (await run_retention(now=NOW)).events_anonymised == 0
    monkeypatch.setenv("RETENTION_DAYS", "7")
    assert (await run_retention(now=NOW)).events_anonymised == len(conversation(RECENT))


async def test_survey_comments_older_than_the_limit_are_emptied_and_their_scores_kept(
    databases: Databases, domain: Domain
) -> None:
    old = await survey_store.record_score(2, "sms", "es", "request:R-1001", now=OLD)
    recent = await survey_store.record_score(5, "webchat", "en", "handoff:3", now=RECENT)
    for answer_id in (old, recent):
        assert await survey_store.add_comment(answer_id, f"the crew at {ADDRESS} was slow")

    dry = await run_retention(dry_run=True, now=NOW)
    counts = await run_retention(now=NOW)

    assert dry.survey_comments_forgotten == counts.survey_comments_forgotten == 1
    answers = await survey_store.answers_between(OLD - timedelta(days=1), NOW)
    assert [(a.score, a.comment) for a in answers] == [(2, None), (5, f"the crew at {ADDRESS} was slow")]
    assert (await run_retention(now=NOW)).survey_comments_forgotten == 0


async def test_a_closed_report_older_than_the_limit_keeps_its_time_to_close(
    databases: Databases, domain: Domain
) -> None:
    await store_events(databases, FORGOTTEN, [OLD], domain)
    store_rows(FORGOTTEN, OLD)
    file_report(FORGOTTEN, OLD, "filed", "1001", "open")
    # The status poll hears the back office close it 30 hours after it was made (and tells the resident).
    closed = ServiceRequest(service_request_id="1001", status="closed")
    assert await record_changes([closed], lambda _r, _s: "closed", now=OLD + timedelta(hours=30)) == 1
    around_old = Period(OLD.date() - timedelta(days=1), OLD.date() + timedelta(days=1), ZoneInfo("America/Chicago"))
    before = await build_table(around_old, "reports_by_service")

    counts = await run_retention(now=NOW)

    assert counts.residents_forgotten == 1 and counts.reports_anonymised == 1
    assert counts.notifications_deleted == 2  # the open and closed updates the resident got: gone
    assert senders(status_notifications) == []
    after = await build_table(around_old, "reports_by_service")
    # (service, reports, filed, closed, median time to close): the same after the resident is forgotten
    assert after.rows == before.rows == (("POTHOLE", 1, 1, 1, 30 * 3600.0), ("All services", 1, 1, 1, 30 * 3600.0))
