"""Whole conversations over Rasa's REST channel against the real running assistant.

The Rasa server, the action server and the reference Open311 server run as the
processes `citybot run` starts; each report is checked in the back office's own
database afterwards.
"""

from __future__ import annotations

import re
import time
from typing import Dict, Optional

import httpx
import pytest
import sqlalchemy as sa

from bot.catalog import load_city
from bot.db.engine import create_engine
from bot.rasa_ext.tracker_store import TIME_INDEX
from tests.support.conversation import Conversation
from tests.support.reports import request_number, stored, unique_address

pytestmark = pytest.mark.e2e

CITY = load_city()

# For every service: how a resident opens, and an answer (in their own words)
# for each of the service's questions, keyed by attribute code.
SCENARIOS: Dict[str, tuple] = {
    "POTHOLE": (
        "I need to report a pothole",
        {"size": "it's a big one", "lane": "bike lane"},
        "large (bigger than a car tire)",
    ),
    "SIDEWALK": ("the sidewalk in front of my house is broken", {"hazard": "raised or lifted"}, "raised or lifted"),
    "MISSED_TRASH": (
        "my garbage wasn't picked up today",
        {"bin_type": "recycling", "set_out_on_time": "yes"},
        "recycling",
    ),
    "STREETLIGHT": (
        "the street light on my block is out",
        {"problem": "flickering", "pole_number": "skip"},
        "flickering",
    ),
    "GRAFFITI": (
        "I want to report graffiti",
        {"surface": "bridge or overpass", "offensive": "no"},
        "bridge or overpass",
    ),
    "NOISE": ("I want to make a noise complaint", {"source": "construction", "happening_now": "yes"}, "construction"),
    "ILLEGAL_DUMPING": (
        "someone dumped an old mattress in the alley",
        {"material": "furniture or mattress"},
        "furniture or mattress",
    ),
    "ABANDONED_VEHICLE": (
        "there's an abandoned car on my street",
        {"plate": "ABC 1234", "days_parked": "about two weeks"},
        None,
    ),
    "FALLEN_TREE": ("a big tree branch fell down", {"blocking": "sidewalk"}, "sidewalk"),
    "WATER_LEAK": ("water is leaking from the street", {"source": "fire hydrant"}, "fire hydrant"),
}


def attribute_asked(reply: str, service_code: str):
    """Which of the service's questions the bot just asked, if any."""
    service = CITY.service(service_code)
    for attribute in service.attributes:
        if attribute.description.rstrip("?") in reply:
            return attribute
    return None


def answer_questions(talk: Conversation, reply: str, service_code: str, answers: Dict[str, str]) -> str:
    """Answer the service's questions until the bot asks for the location."""
    asked = []
    while True:
        attribute = attribute_asked(reply, service_code)
        if attribute is None:
            break
        assert attribute.code not in asked, f"asked {attribute.code} twice:\n" + "\n".join(talk.transcript)
        asked.append(attribute.code)
        reply = talk.text(answers[attribute.code])
    service = CITY.service(service_code)
    assert asked == [a.code for a in sorted(service.attributes, key=lambda a: not a.required)], talk.transcript
    return reply


def file_report(talk: Conversation, code: str, address: Optional[str] = None) -> tuple:
    """Walk through a whole report; return (request number, last reply)."""
    address = address or unique_address()
    opening, answers, _ = SCENARIOS[code]
    reply = talk.text(opening)
    reply = answer_questions(talk, reply, code, answers)
    assert "Where is it?" in reply, talk.transcript
    reply = talk.text(address)
    assert "describe the problem" in reply, talk.transcript
    reply = talk.text(f"Reported by an automated test for {code.lower()}")
    assert "updates" in reply, talk.transcript
    reply = talk.text("skip")
    assert "Here's your report" in reply and address in reply, talk.transcript
    reply = talk.text("yes")
    return request_number(reply), reply


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_service_is_filed_with_its_answers(stack, conversation, code):
    address = unique_address()
    request_id, reply = file_report(conversation, code, address)
    assert "expects to have it handled by" in reply
    request = stored(stack, request_id)
    assert request is not None
    assert request.service_code == code
    assert request.address == address
    assert request.description.startswith(f"Reported by an automated test for {code.lower()} [ref R-")
    assert request.email is None and request.phone is None
    _, answers, required_value = SCENARIOS[code]
    service = CITY.service(code)
    first_required = next(a for a in service.attributes if a.required)
    if required_value is not None:
        assert request.attributes[first_required.code] == required_value
    if code == "ABANDONED_VEHICLE":
        assert request.attributes == {"plate": "ABC 1234", "days_parked": "14"}
    if code == "STREETLIGHT":
        assert "pole_number" not in request.attributes


def test_a_correction_at_the_summary(stack, conversation):
    talk = conversation
    reply = talk.text("there's a pothole I want to report")
    reply = answer_questions(talk, reply, "POTHOLE", {"size": "small", "lane": "skip"})
    talk.text(unique_address())
    talk.text("right in front of the bakery")
    reply = talk.text("jane@example.org")
    assert "Contact: jane@example.org" in reply
    reply = talk.text("no, it's 12 Oak Avenue")
    assert "updated" in reply and "Location: 12 Oak Avenue" in reply, talk.transcript
    reply = talk.text("the size is wrong")
    assert "How big is it?" in reply, talk.transcript
    reply = talk.text("medium")
    assert "medium (up to a car tire)" in reply and "Here's your report" in reply
    request = stored(stack, request_number(talk.text("yes, send it")))
    assert request.address == "12 Oak Avenue"
    assert request.attributes == {"size": "medium (up to a car tire)"}
    assert request.email == "jane@example.org"


def test_a_city_question_in_the_middle_of_a_report(stack, conversation):
    talk = conversation
    reply = talk.text("I want to report graffiti")
    assert "What is it on?" in reply
    reply = talk.text("when is city hall open?")
    assert "8:30" in reply and "What is it on?" in reply, talk.transcript
    reply = answer_questions(talk, reply, "GRAFFITI", SCENARIOS["GRAFFITI"][1])
    talk.text("Main St and 5th Ave")
    talk.text("tags on the bridge")
    talk.text("skip")
    request = stored(stack, request_number(talk.text("yes")))
    assert request.service_code == "GRAFFITI"
    assert request.address == "Main St and 5th Ave"


def test_cancel_sends_nothing(stack, conversation):
    talk = conversation
    talk.text("I need to report a pothole")
    talk.text("small")
    talk.text("skip")
    talk.text("99 Cancel Road")
    reply = talk.text("cancel")
    assert "cancelled" in reply
    assert talk.tracker()["slots"]["service_code"] is None
    before = httpx.get(f"{stack.effective_open311_url}/requests.json", timeout=10).json()
    assert all(r.get("address") != "99 Cancel Road" for r in before)
    reply = talk.text("I want to report a pothole")
    assert "How big is it?" in reply  # a fresh report, nothing carried over


def test_status_lookup_known_unknown_and_malformed(stack, conversation):
    request_id, _ = file_report(Conversation(stack.rasa_port), "FALLEN_TREE")
    talk = conversation
    reply = talk.text(f"what's happening with my request {request_id}?")
    assert f"Request {request_id}" in reply and "open" in reply and "received" in reply, talk.transcript
    reply = talk.text("what's the status of request 987654")
    assert "couldn't find a request with the number 987654" in reply
    reply = talk.text("can you check on my report?")
    assert "request number" in reply
    reply = talk.text("the one about the tree")
    assert "doesn't look like a request number" in reply


def test_status_notes_from_the_back_office(stack, conversation):
    request_id, _ = file_report(Conversation(stack.rasa_port), "WATER_LEAK")
    response = httpx.post(
        f"{stack.effective_open311_url}/requests/{request_id}/status.json",
        data={"api_key": "riverton-dev-key", "status": "closed", "status_notes": "closed - fixed"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    reply = conversation.text(f"status of {request_id}")
    assert "closed" in reply and "fixed" in reply


def test_emergency_goes_to_911(conversation):
    assert "911" in conversation.text("I smell gas in my kitchen")


def test_emergency_in_the_middle_of_a_report(stack, conversation):
    talk = conversation
    talk.text("water is leaking from the street")
    reply = talk.text("the house is flooding and water is coming in fast, help")
    assert "911" in reply
    assert talk.tracker()["active_loop"] in ({}, None) or not talk.tracker()["active_loop"].get("name")


def test_out_of_scope_twice_offers_a_person(conversation):
    first = conversation.text("can you recommend a good pasta recipe")
    assert "can't help" in first and "report" in first
    second = conversation.say("what's the best phone to buy this year")
    assert any("311" in m.get("text", "") for m in second)
    assert any(b["payload"] == "/request_human" for m in second for b in m.get("buttons", []))


def test_asking_for_a_person(conversation):
    reply = conversation.text("I want to talk to a real person")
    assert "(555) 010-0311" in reply


def test_greeting_thanks_goodbye_and_bot_question(conversation):
    assert "311 assistant" in conversation.text("hello")
    assert "not a person" in conversation.text("are you a robot?")
    assert "welcome" in conversation.text("thanks!")
    assert "Goodbye" in conversation.text("bye")


def test_shared_coordinates_replace_the_address_question(stack, conversation):
    talk = conversation
    reply = talk.text("I want to report a water leak")
    reply = talk.text("street or pavement", metadata={"location": {"latitude": 41.5, "longitude": -90.5}})
    assert "Where is it?" not in reply and "describe the problem" in reply, talk.transcript
    talk.text("water bubbling up through the asphalt")
    reply = talk.text("skip")
    assert "the location you shared" in reply
    request = stored(stack, request_number(talk.text("yes")))
    assert (request.lat, request.long) == (41.5, -90.5)


def test_a_half_finished_report_survives_restarts(stack, conversation):
    talk = conversation
    talk.text("the street light on my block is out")
    talk.text("out")
    stack.restart("rasa")  # which runs the actions too
    reply = talk.text("skip")  # the pole number: the form picks up where it was
    assert "Where is it?" in reply, talk.transcript
    talk.text(unique_address())
    talk.text("dark all night")
    talk.text("skip")
    request = stored(stack, request_number(talk.text("yes")))
    assert request.service_code == "STREETLIGHT" and request.attributes == {"problem": "out"}


def test_a_report_while_the_back_office_is_down_gets_a_reference_and_arrives_once(stack, conversation):
    talk = conversation
    talk.text("I want to report a water leak")  # the service's questions are fetched (and cached) now
    open311 = next(p for p in stack.processes if p.name == "open311")
    open311.stop()
    try:
        talk.text("water meter")
        talk.text(unique_address())
        talk.text("water pooling around the meter")
        talk.text("skip")
        reply = talk.text("yes")
    finally:
        open311.start()
        open311.wait_ready(60)
    match = re.search(r"saved with reference (R-[A-Z0-9]+)", reply)
    assert match, talk.transcript
    reference = match.group(1)
    deadline = time.monotonic() + 30
    filed = []
    while time.monotonic() < deadline and not filed:
        found = httpx.get(f"{stack.effective_open311_url}/requests.json?service_code=WATER_LEAK", timeout=10).json()
        filed = [r for r in found if f"[ref {reference}]" in (r.get("description") or "")]
        time.sleep(0.5)
    assert len(filed) == 1, f"{reference} filed {len(filed)} times"
    time.sleep(2)  # a few more worker rounds: still exactly once
    found = httpx.get(f"{stack.effective_open311_url}/requests.json?service_code=WATER_LEAK", timeout=10).json()
    assert sum(f"[ref {reference}]" in (r.get("description") or "") for r in found) == 1
    reply = talk.text(f"what's the status of {reference}")
    assert filed[0]["service_request_id"] in reply and reference in reply


def test_a_report_near_an_open_one_offers_to_follow_it(stack):
    here = {"location": {"latitude": 41.6001, "longitude": -90.6001}}
    first = Conversation(stack.rasa_port)
    first.text("I want to report graffiti")
    first.text("public property", metadata=here)
    first.text("no")
    first.text("tags on the wall")
    first.text("skip")
    original = request_number(first.text("yes"))
    second = Conversation(stack.rasa_port)
    second.text("there is graffiti on the wall")
    second.text("public property")
    reply = second.text("no", metadata={"location": {"latitude": 41.60012, "longitude": -90.60015}})
    assert "looks already reported" in reply and f"Request {original}" in reply, second.transcript
    reply = second.text("follow it")
    assert f"following request {original}" in reply
    found = httpx.get(f"{stack.effective_open311_url}/requests.json?service_code=GRAFFITI", timeout=10).json()
    assert sum(1 for r in found if r.get("lat") and abs(r["lat"] - 41.6) < 0.01) == 1


def test_the_faq_page_an_alert_links_to_is_served_by_the_rasa_server(stack):
    """`{PUBLIC_URL}/faq/<topic>` in an alert opens the assistant's own answer, on the Rasa server."""
    base = f"http://127.0.0.1:{stack.rasa_port}"
    page = httpx.get(f"{base}/faq/cooling_warming_centers", timeout=30)
    assert page.status_code == 200 and "Cooling centers open" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert httpx.get(f"{base}/faq/no_such_topic", timeout=30).status_code == 404


def test_the_rasa_server_makes_the_dashboards_index_on_its_events_when_it_starts(stack):
    """`events (type_name, timestamp)`: the dashboard reads a date range's events, not every event ever stored."""
    engine = create_engine(stack.tracker_env()["TRACKER_URL"])
    try:
        indexes = {index["name"]: index["column_names"] for index in sa.inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()
    assert indexes[TIME_INDEX] == ["type_name", "timestamp"]
