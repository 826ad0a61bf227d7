"""The jobs actions against tracker fixtures, answering from a feed file of the test's (the city's, kept open)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.jobs import (
    MORE_PAYLOAD,
    MORE_SLOT,
    ActionAnswerJobs,
    ActionMoreJobs,
    ActionSubscribeJobs,
    ActionUnsubscribeJobs,
)
from bot.db.contacts import remember_contact
from bot.db.engine import reset_database
from bot.jobs.subscriptions import JobSubscription, job_subscriptions_of
from bot.process.procs import PROJECT_ROOT
from tests.support.city import forget_city
from tests.support.jobs import job_posting, shipped_document

DOMAIN: Dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
CLOSED = "2026-0360"  # GIS Analyst: closed on November 30, 2026 in the city's own file
SENDER = "webchat-jobs-resident"


@pytest.fixture(autouse=True)
def feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The city's own postings, open until 2099 but the closed one, plus three more for Public Works."""
    document = shipped_document()
    for item in document["itemListElement"]:
        posting = item["item"] if "item" in item else item
        if posting["identifier"]["value"] != CLOSED:
            posting["validThrough"] = "2099-01-31T23:59:00-06:00"
    for number, title in enumerate(("Street Maintenance Worker", "Traffic Sign Technician", "Fleet Mechanic")):
        document["itemListElement"].append(job_posting(f"2099-000{number}", title, "Public Works"))
    path = tmp_path / "jobs.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("JOBS_FEED_URL", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CITY_FILE", raising=False)
    forget_city()
    reset_database()
    yield path
    reset_database()
    forget_city()


def make_tracker(
    text: str, intent: str = "ask_jobs", language: str = "en", slots: Optional[Dict[str, Any]] = None
) -> Tracker:
    all_slots: Dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update(language=language, **(slots or {}))
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": [], "metadata": {}}
    return Tracker(SENDER, all_slots, latest, [], False, None, {}, "action_listen")


async def run(action: Any, tracker: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, events


def more_slot(events: List[Dict[str, Any]]) -> Any:
    return next(e["value"] for e in events if e.get("name") == MORE_SLOT)


async def test_is_the_city_hiring_counts_the_open_jobs_by_department():
    messages, events = await run(ActionAnswerJobs(), make_tracker("is the city hiring?"))
    text = messages[0]["text"]
    assert text.startswith("The City of Riverton has 11 open jobs: Public Works (4), Parks and Recreation (2)")
    assert "GIS" not in text and "Information Technology" not in text  # the closed posting's department
    assert "https://www.riverton.gov/jobs" in text
    assert more_slot(events) is None


async def test_a_department_shows_three_jobs_then_a_more_button_for_the_rest():
    messages, events = await run(ActionAnswerJobs(), make_tracker("any public works jobs?"))
    text = messages[0]["text"]
    assert text.startswith("Public Works has 4 open jobs:")
    assert text.count("\n- ") == 3 and "And 1 more." in text
    assert messages[0]["buttons"] == [{"title": "More jobs", "payload": MORE_PAYLOAD}]
    left_out = more_slot(events)
    assert len(left_out) == 1

    messages, events = await run(ActionMoreJobs(), make_tracker(MORE_PAYLOAD, "more_jobs", slots={MORE_SLOT: left_out}))
    assert messages[0]["text"].startswith("More open jobs:") and messages[0]["text"].count("\n- ") == 1
    assert not messages[0]["buttons"] and more_slot(events) is None


async def test_a_kind_and_a_keyword_in_spanish():
    messages, _ = await run(ActionAnswerJobs(), make_tracker("¿hay trabajos de medio tiempo?", language="es"))
    assert "Recreation Program Leader (part time)" in messages[0]["text"]
    assert messages[0]["text"].count("\n- ") == 1 and "Vea todos los empleos" in messages[0]["text"]
    messages, _ = await run(ActionAnswerJobs(), make_tracker("¿hay trabajos de chofer?", language="es"))
    assert '"chofer"' in messages[0]["text"] and "Equipment Operator II" in messages[0]["text"]


async def test_one_postings_pay_and_closing_date():
    tracker = make_tracker("how much does the water plant operator job pay", "ask_job_details")
    messages, _ = await run(ActionAnswerJobs(), tracker)
    text = messages[0]["text"]
    assert text.startswith("Water Treatment Plant Operator\n")
    assert "Pay: $55,000 to $72,400 a year" in text and "Apply by: Saturday, January 31\n" in text


async def test_a_title_named_in_a_general_question_gets_that_posting():
    messages, _ = await run(ActionAnswerJobs(), make_tracker("anything for a mechanic?"))
    assert messages[0]["text"].startswith("Fleet Mechanic\nDepartment: Public Works")
    messages, _ = await run(ActionAnswerJobs(), make_tracker("any operator jobs?"))
    assert messages[0]["text"].startswith("2 open jobs match:")
    assert "Equipment Operator II" in messages[0]["text"] and "Water Treatment Plant Operator" in messages[0]["text"]
    messages, _ = await run(ActionAnswerJobs(), make_tracker("i need a job, is riverton hiring"))
    assert messages[0]["text"].startswith("The City of Riverton has 11 open jobs")


async def test_the_closed_posting_is_never_shown():
    for said, intent in (("what does the gis analyst job pay", "ask_job_details"), ("any IT jobs", "ask_jobs")):
        messages, _ = await run(ActionAnswerJobs(), make_tracker(said, intent))
        assert "GIS Analyst" not in messages[0]["text"], said


async def test_on_sms_the_answer_is_compact(feed):
    await remember_contact(SENDER, "sms", "+15550001111")
    tracker = make_tracker("when does the equipment operator posting close", "ask_job_details")
    messages, _ = await run(ActionAnswerJobs(), tracker)
    assert messages[0]["text"] == (
        "Equipment Operator II: $48,500-$61,200/yr, closes Jan 31. Apply: https://www.riverton.gov/jobs/2026-0398"
    )


async def test_job_alerts_on_and_off():
    messages, _ = await run(ActionSubscribeJobs(), make_tracker("tell me when there are new parks jobs"))
    assert "not to this conversation" in messages[0]["text"]  # a REST caller: no channel to write to
    await remember_contact(SENDER, "webchat", "session-1")
    messages, _ = await run(ActionSubscribeJobs(), make_tracker("tell me when there are new parks jobs"))
    assert "Parks and Recreation" in messages[0]["text"]
    messages, _ = await run(ActionSubscribeJobs(), make_tracker("avísame de trabajos de chofer", language="es"))
    assert '"chofer"' in messages[0]["text"]
    assert await job_subscriptions_of(SENDER) == [
        JobSubscription(SENDER, "webchat", "en", "Parks and Recreation", None),
        JobSubscription(SENDER, "webchat", "es", None, "chofer"),
    ]
    messages, _ = await run(ActionSubscribeJobs(), make_tracker("send me job alerts"))
    assert "Which jobs" in messages[0]["text"] and "Public Works" in messages[0]["text"]

    messages, _ = await run(
        ActionUnsubscribeJobs(), make_tracker("stop the parks job alerts", "unsubscribe_job_alerts")
    )
    assert "Your other job alerts stay on" in messages[0]["text"]
    messages, _ = await run(ActionUnsubscribeJobs(), make_tracker("stop job alerts", "unsubscribe_job_alerts"))
    assert messages[0]["text"] == "Done: you will get no more job alerts."
    assert await job_subscriptions_of(SENDER) == []
    messages, _ = await run(ActionUnsubscribeJobs(), make_tracker("cancelar avisos de empleo", language="es"))
    assert messages[0]["text"] == "No tenía avisos de empleo."
