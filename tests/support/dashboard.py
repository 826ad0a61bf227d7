"""A scripted set of conversations whose dashboard figures are known, written where the real ones are.

The conversations go into Rasa's SQL tracker store through Rasa's own
SQLTrackerStore (tests/support/tracker_store.py), one of them anonymised by the
retention job's own code; handoffs, audit lines, reports and status updates
go into the assistant's database. Times are Riverton's (America/Chicago,
UTC-6 in early March 2026); the date range is RANGE. The expected figures,
worked out by hand from the scripts below, are the constants at the end (docs/dashboard.md
defines each).

Per conversation (c: contained, s: went to staff, a: abandoned after a misunderstanding):

| id | channel  | language | day (local)  | messages the assistant answered              | outcome |
| I  | web chat | en       | Mar 1 23:50  | begun before the range: not counted          | -       |
| A  | web chat | en       | Mar 2 10:00  | trash_day, recycling_rules                   | c       |
| C  | telegram | en       | Mar 2 15:00  | not understood (an email, an address)        | a       |
| D  | REST     | en       | Mar 3 08:00  | 2 not understood, a person (+1 while waiting)| s       |
| E  | web chat | es       | Mar 3 12:00  | trash_day, a person                          | s       |
| F  | SMS      | en       | Mar 3 18:00  | not understood, library_hours                | c       |
| H  | WhatsApp | en       | Mar 3 22:30  | not understood (Mar 4 in UTC)                | a       |
| L  | SMS      | en       | Mar 3 16:00  | a person (+1 while waiting, then left)       | s       |
| A2 | web chat | en       | Mar 4 09:00  | trash_day (A's second session)               | c       |
| B  | SMS      | es       | Mar 4 07:00  | trash_day                                    | c       |
| G  | telegram | es       | Mar 4 11:00  | trash_day, then anonymised                   | c       |
| J  | telegram | en       | Mar 5 00:30  | after the range: not counted                 | -       |
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.channels.hooks import NOT_TYPED
from bot.channels.identity import anonymous_sender_id, sender_id_for
from bot.db.engine import Database, create_engine
from bot.db.schema import audit_log, handoffs, report_outbox, status_notifications
from bot.retention.events import anonymise_before
from tests.support.tracker_store import record

CITY = ZoneInfo("America/Chicago")
# The slot the scripts set (Rasa logs an error for a slot its domain lacks).
DOMAIN = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})
RANGE = (date(2026, 3, 2), date(2026, 3, 4))


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CITY)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


class Script:
    """One conversation id's events in order: each a second after the one before, unless `at` moves the clock."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.events: List[Event] = []
        self.clock = 0.0

    def tick(self) -> float:
        self.clock += 1
        return self.clock

    def at(self, moment: datetime) -> "Script":
        self.clock = moment.timestamp()
        return self

    def session(self, moment: datetime, language: str) -> "Script":
        """A new session, as Rasa starts one (the language carried over)."""
        self.at(moment)
        self.events += [
            ActionExecuted("action_session_start", timestamp=self.tick()),
            SessionStarted(timestamp=self.tick()),
            SlotSet("language", language, timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]
        return self

    def said(self, text: str, intent: str, parse: Optional[Dict[str, Any]] = None) -> None:
        data = {"intent": {"name": intent, "confidence": 0.9}, **(parse or {})}
        self.events.append(
            UserUttered(text, data["intent"], [], data, timestamp=self.tick(), input_channel=self.channel)
        )

    def page_opened(self) -> "Script":
        """The web chat's greeting, sent for the resident when a page opens (not counted as writing)."""
        self.events.append(
            UserUttered(
                "/greet",
                {"name": "greet", "confidence": 1.0},
                [],
                timestamp=self.tick(),
                input_channel=self.channel,
                metadata={NOT_TYPED: True},
            )
        )
        self.answer("utter_greet")
        return self

    def answer(self, *actions: str) -> None:
        for action in actions:
            self.events.append(ActionExecuted(action, timestamp=self.tick()))
        self.events += [
            BotUttered("...", timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]

    def faq(self, text: str, topic: str) -> "Script":
        selector = {
            "all_retrieval_intents": ["faq"],
            "faq": {"response": {"intent_response_key": f"faq/{topic}", "utter_action": f"utter_faq/{topic}"}},
        }
        self.said(text, "faq", {"response_selector": selector})
        self.answer("utter_faq")
        return self

    def jobs(self, text: str, intent: str, action: str) -> "Script":
        """A message a jobs action answered (actions/jobs.py)."""
        self.said(text, intent)
        self.answer(action)
        return self

    def not_understood(self, text: str) -> "Script":
        self.said(text, "nlu_fallback")
        self.answer("action_handle_misunderstanding")
        return self

    def asks_for_a_person(self, text: str = "/request_human") -> "Script":
        self.said(text, "request_human")
        self.events += [
            ActionExecuted("action_request_human", timestamp=self.tick()),
            BotUttered("A person will join.", timestamp=self.tick()),
            ConversationPaused(timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]
        return self

    def while_waiting(self, text: str, leaves: bool = False) -> "Script":
        self.said(text, "greet")
        self.events.append(ActionExecuted("action_handoff_waiting", timestamp=self.tick()))
        if leaves:
            self.events.append(ConversationResumed(timestamp=self.tick()))
        self.events.append(ActionExecuted("action_listen", timestamp=self.tick()))
        return self

    def taken_over(self) -> "Script":
        self.events.append(ConversationPaused(timestamp=self.tick()))
        return self

    def staff_reply(self, staff: str) -> "Script":
        self.events.append(BotUttered("Staff here.", metadata={"staff": staff}, timestamp=self.tick()))
        return self

    def handed_back(self) -> "Script":
        self.events += [
            ConversationResumed(timestamp=self.tick()),
            ActionExecuted("action_listen", timestamp=self.tick()),
        ]
        return self


def senders() -> Dict[str, str]:
    return {
        "I": sender_id_for("webchat", "session-i"),
        "A": sender_id_for("webchat", "session-a"),
        "C": sender_id_for("telegram", "4242"),
        "D": "resident-d",
        "E": sender_id_for("webchat", "session-e"),
        "F": sender_id_for("sms", "+15550100"),
        "H": sender_id_for("whatsapp", "+15550200"),
        "L": sender_id_for("sms", "+15550400"),
        "B": sender_id_for("sms", "+15550300"),
        "G": sender_id_for("telegram", "4343"),
        "J": sender_id_for("telegram", "4444"),
        "K": sender_id_for("webchat", "session-k"),
    }


def scripts() -> Dict[str, Script]:
    """Each conversation id's events (A's two sessions under one id)."""
    i = Script("webchat").session(local(1, 23, 50), "en").page_opened().faq("trash day?", "trash_day")
    i.at(local(2, 0, 10)).not_understood("xyzzy out of range")
    i.at(local(2, 0, 20)).taken_over().staff_reply("dana")
    a = Script("webchat").session(local(2, 9, 50), "en").page_opened()  # the page opened ten minutes before
    a.at(local(2, 10)).faq("when is trash day", "trash_day")
    a.faq("what can I recycle", "recycling_rules")
    a.session(local(4, 9), "en").faq("trash day?", "trash_day")
    c = Script("telegram").session(local(2, 15), "en")
    c.not_understood("my email is jo@example.com and I live at 12 Elm Street")
    d = Script("rest").session(local(3, 8), "en").not_understood("xyzzy").not_understood("call me at 555-010-1234")
    d.at(local(3, 8, 2)).asks_for_a_person()
    d.at(local(3, 8, 3)).while_waiting("hello?")
    d.at(local(3, 8, 8)).staff_reply("dana")
    d.at(local(3, 8, 15)).handed_back()
    e = Script("webchat").session(local(3, 12), "es").faq("¿qué día pasa la basura?", "trash_day")
    e.at(local(3, 12, 1)).asks_for_a_person("quiero hablar con una persona")
    e.at(local(3, 12, 11)).staff_reply("emil")
    e.at(local(3, 12, 20)).handed_back()
    f = Script("twilio").session(local(3, 18), "en").not_understood("XYZZY").faq("library hours", "library_hours")
    f.jobs("is the city hiring", "ask_jobs", "action_answer_jobs").jobs("/more_jobs", "more_jobs", "action_more_jobs")
    f.jobs("tell me about new library jobs", "subscribe_job_alerts", "action_subscribe_jobs")
    h = Script("twilio").session(local(3, 22, 30), "en")
    h.not_understood("@city what about ticket 4471-22 at 300 Oak Ave?")
    ell = Script("twilio").session(local(3, 16), "en").asks_for_a_person()
    ell.at(local(3, 16, 2)).while_waiting("never mind", leaves=True)
    b = Script("twilio").session(local(4, 7), "es").faq("basura", "trash_day")
    b.jobs("¿hay empleos en parques?", "ask_jobs", "action_answer_jobs")
    b.jobs("cancelar avisos de empleo", "unsubscribe_job_alerts", "action_unsubscribe_jobs")
    g = Script("telegram").session(local(4, 11), "es").faq("trash", "trash_day")
    j = Script("telegram").session(local(5, 0, 30), "en").faq("trash day?", "trash_day")
    j.jobs("any parks jobs", "ask_jobs", "action_answer_jobs")  # March 5: out of the range
    k = Script("webchat").session(local(3, 9), "en").page_opened()  # opened and left: no conversation
    return {"K": k, "I": i, "A": a, "C": c, "D": d, "E": e, "F": f, "H": h, "L": ell, "B": b, "G": g, "J": j}


def handoff_rows(ids: Dict[str, str]) -> List[Tuple[Dict[str, Any], List[Tuple[datetime, str, str, Optional[str]]]]]:
    """Each handoff's row and its audit lines (when, who, action, detail)."""

    def handoff(
        key: str, channel: str, reason: str, opened: datetime, claimed: Optional[datetime], by: str
    ) -> Dict[str, Any]:
        return dict(
            sender_id=ids[key],
            channel=channel,
            reason=reason,
            state="resolved",
            created_at=utc(opened),
            updated_at=utc(opened + timedelta(minutes=20)),
            claimed_by=by if claimed else None,
            claimed_at=utc(claimed) if claimed else None,
            resolved_by=by,
            resolved_at=utc(opened + timedelta(minutes=20)),
            handed_back=True,
        )

    return [
        (  # D's first handoff, before the range
            handoff("D", "rest", "asked", local(20, 10, month=2), local(20, 10, 30, month=2), "dana"),
            [(local(20, 10, 30, month=2), "dana", "claim", None), (local(20, 10, 31, month=2), "dana", "reply", None)],
        ),
        (  # I: taken over by staff (claimed as it opened)
            handoff("I", "webchat", "staff", local(2, 0, 20), local(2, 0, 20), "dana"),
            [(local(2, 0, 20), "dana", "take_over", None), (local(2, 0, 21), "dana", "reply", None)],
        ),
        (  # D: claimed after 4 minutes, a reply after 6, released and claimed again later
            handoff("D", "rest", "misunderstood", local(3, 8, 2), local(3, 8, 11), "emil"),
            [
                (local(3, 8, 6), "dana", "claim", None),
                (local(3, 8, 8), "dana", "reply", None),
                (local(3, 8, 9), "dana", "release", None),
                (local(3, 8, 11), "emil", "claim", None),
                (local(3, 8, 15), "emil", "resolve", "handed back"),
            ],
        ),
        (  # E: claimed after 2 minutes; a reply not delivered after 5, one delivered after 10
            handoff("E", "webchat", "asked", local(3, 12, 1), local(3, 12, 3), "emil"),
            [
                (local(3, 12, 3), "emil", "claim", None),
                (local(3, 12, 6), "emil", "reply", "not delivered: the channel failed (HTTPError)"),
                (local(3, 12, 11), "emil", "reply", None),
                (local(3, 12, 20), "emil", "resolve", "handed back"),
            ],
        ),
        (  # L: the resident left the queue before anyone claimed it
            handoff("L", "sms", "asked", local(3, 16), None, "resident"),
            [(local(3, 16, 2), "resident", "cancel", "left the queue")],
        ),
    ]


def report(
    reference: str,
    sender: Optional[str],
    code: str,
    name: str,
    made: datetime,
    state: str,
    number: Optional[str],
    closed: Optional[datetime] = None,
) -> Dict[str, Any]:
    return dict(
        reference=reference,
        idempotency_key=reference,
        sender_id=sender,
        service_code=code,
        service_name=name,
        fields="{}",
        state=state,
        attempts=1,
        next_attempt_at=utc(made),
        service_request_id=number,
        created_at=utc(made),
        filed_at=utc(made + timedelta(minutes=1)) if state == "filed" else None,
        closed_at=utc(closed) if closed else None,
        resident_told=True,
        language="en",
    )


def report_rows(ids: Dict[str, str], anonymous_g: str) -> List[Dict[str, Any]]:
    """The reports, each closed when the status poll first heard it closed (status_rows)."""
    closed = first_closes(ids)
    return [
        report("R-AAAAA1", ids["F"], "POTHOLE", "Pothole", local(3, 18, 5), "filed", "1001", closed["1001"]),
        report("R-AAAAA2", ids["A"], "POTHOLE", "Pothole", local(2, 10, 5), "filed", "1002", closed["1002"]),
        report("R-AAAAA3", ids["B"], "GRAFFITI", "Graffiti removal", local(4, 7, 5), "filed", "1003"),
        report("R-AAAAA4", anonymous_g, "STREETLIGHT", "Streetlight out", local(4, 11, 5), "pending", None),
        report(  # before the range
            "R-AAAAA5", ids["F"], "POTHOLE", "Pothole", local(25, 9, month=2), "filed", "1000", closed["1000"]
        ),
        report("R-AAAAA6", None, "GRAFFITI", "Graffiti removal", local(2, 9), "rejected", None),
    ]


def status_updates(ids: Dict[str, str]) -> List[Tuple[str, str, str, datetime]]:
    """The updates the status poll recorded (follower, request, change key, when): 1001 closed 48 h after filing,
    1002 96 h after, 1003 still open."""
    filed_1001, filed_1002 = local(3, 18, 6), local(2, 10, 6)
    return [
        (ids["F"], "1001", "open|", local(4, 10)),
        (ids["F"], "1001", "closed|fixed", filed_1001 + timedelta(hours=48)),
        (ids["F"], "1001", "closed|fixed again", filed_1001 + timedelta(hours=60)),
        (ids["A"], "1002", "closed|", filed_1002 + timedelta(hours=96)),
        (ids["B"], "1003", "open|crew sent", local(4, 12)),
        (ids["F"], "1000", "closed|", local(26, 9, month=2)),
    ]


def first_closes(ids: Dict[str, str]) -> Dict[str, datetime]:
    """Each request's first `closed` update: when the poll stamped its report closed."""
    found: Dict[str, datetime] = {}
    for _, number, key, at in status_updates(ids):
        if key.startswith("closed|"):
            found.setdefault(number, at)
    return found


def status_rows(ids: Dict[str, str]) -> List[Dict[str, Any]]:
    return [
        dict(
            sender_id=s, service_request_id=n, change_key=k, text="update", state="sent", attempts=1, created_at=utc(t)
        )
        for s, n, k, t in status_updates(ids)
    ]


async def write_scripted_data(tracker_url: str, database_url: str) -> Dict[str, str]:
    """Write the scripted set; returns each conversation's id (G's: its anonymous id)."""
    ids = senders()
    for key, script in scripts().items():
        await record(tracker_url, ids[key], script.events, domain=DOMAIN)
    anonymous_g = anonymous_sender_id("telegram")
    engine = create_engine(tracker_url)
    try:
        with engine.begin() as connection:  # the retention job's own anonymisation
            anonymise_before(connection, ids["G"], anonymous_g, datetime(2100, 1, 1).timestamp())
    finally:
        engine.dispose()
    db = Database(database_url)
    try:
        with db.engine.begin() as connection:
            for row, lines in handoff_rows(ids):
                handoff_id = connection.execute(handoffs.insert().values(**row)).inserted_primary_key[0]
                for at, actor, action, detail in lines:
                    connection.execute(
                        audit_log.insert().values(
                            at=utc(at), actor=actor, action=action, handoff_id=handoff_id, detail=detail
                        )
                    )
            connection.execute(report_outbox.insert(), report_rows(ids, anonymous_g))
            connection.execute(status_notifications.insert(), status_rows(ids))
    finally:
        db.dispose()
    return {**ids, "G": anonymous_g}


# --- the figures the dashboard must show for RANGE ------------------------------------------------

MINUTE, HOUR = 60.0, 3600.0
SUMMARY = {
    "Conversations": 10,
    "Containment rate": 50.0,
    "Handoff rate": 30.0,
    "Abandoned after a misunderstanding": 20.0,
    "Resident messages the assistant answered": 20,
    "Messages not understood": 5,
    "Fallback rate": 100 * 5 / 20,
}
SUMMARY_SHOWN = {
    "Conversations": "10",
    "Containment rate": "50%",
    "Handoff rate": "30%",
    "Abandoned after a misunderstanding": "20%",
    "Resident messages the assistant answered": "20",
    "Messages not understood": "5",
    "Fallback rate": "25%",
}
CONTAINMENT = (
    ("Contained", 5, 50.0),
    ("Handed to staff", 3, 30.0),
    ("Abandoned after a misunderstanding", 2, 20.0),
)
# (conversations, contained, handed to staff, abandoned)
BY_DAY = ((date(2026, 3, 2), 2, 1, 0, 1), (date(2026, 3, 3), 5, 1, 3, 1), (date(2026, 3, 4), 3, 3, 0, 0))
BY_CHANNEL = (
    ("SMS", 3, 2, 1, 0),
    ("Web chat", 3, 2, 1, 0),
    ("Telegram", 2, 1, 0, 1),
    ("REST API", 1, 0, 1, 0),
    ("WhatsApp", 1, 0, 0, 1),
)
BY_LANGUAGE = (("English", 7, 3, 2, 2), ("Spanish", 3, 2, 1, 0))
QUESTIONS = (("Trash day", 5), ("Library hours", 1), ("Recycling rules", 1))
# Jobs answers viewed (F's two, B's one), conversations with one (F, B), alert subscriptions asked (F), stops (B).
JOBS = (
    ("Jobs answers viewed", 3),
    ("Conversations with a jobs answer", 2),
    ("Job alert subscriptions asked for", 1),
    ("Job alerts stopped", 1),
)
UNANSWERED = (
    ("xyzzy", 2),
    ("@city what about ticket [reference] at [address]?", 1),
    ("call me at [phone]", 1),
    ("my email is [email] and I live at [address]", 1),
)
# (reason, handoffs, claimed, not claimed, median wait to claim, median wait to first reply), in seconds
HANDOFFS = (
    ("Asked for a person", 2, 1, 1, 2 * MINUTE, 10 * MINUTE),
    ("Not understood by the assistant", 1, 1, 0, 4 * MINUTE, 6 * MINUTE),
    ("Picked up by staff", 1, 1, 0, None, None),
    ("All handoffs", 4, 3, 1, 3 * MINUTE, 8 * MINUTE),
)
# (service, reports, filed with the city, closed, median time to close in seconds)
REPORTS_BY_SERVICE = (
    ("Graffiti removal", 2, 1, 0, None),
    ("Pothole", 2, 2, 2, 72 * HOUR),
    ("Streetlight out", 1, 0, 0, None),
    ("All services", 5, 3, 2, 72 * HOUR),
)
REPORTS_BY_CHANNEL = (
    ("Graffiti removal", "No conversation", 1, 0, 0, None),
    ("Graffiti removal", "SMS", 1, 1, 0, None),
    ("Pothole", "SMS", 1, 1, 1, 48 * HOUR),
    ("Pothole", "Web chat", 1, 1, 1, 96 * HOUR),
    ("Streetlight out", "Telegram", 1, 0, 0, None),
)
