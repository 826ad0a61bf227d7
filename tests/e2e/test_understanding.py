"""Residents understood as they write: a description stays a description, an address is an address,
and what the city can't help with is said honestly (nothing started, nobody queued).

The conversations quoted in issue 20, against the real running assistant.
"""

from __future__ import annotations

import pytest

from tests.support.conversation import Conversation
from tests.support.reports import request_number, stored, unique_address

pytestmark = pytest.mark.e2e


def test_a_description_that_names_a_city_topic_is_taken_in_one_turn(stack, conversation: Conversation):
    talk = conversation
    assert "What is it on?" in talk.text("I want to report graffiti")
    talk.text("bridge or overpass")
    talk.text("no")
    talk.text(unique_address())
    reply = talk.text("public property")  # the description: once, not the property-tax answer
    assert "updates" in reply and "property tax" not in reply.lower(), talk.transcript
    talk.text("skip")
    request = stored(stack, request_number(talk.text("yes")))
    assert request.description.startswith("public property [ref R-")


def test_a_choice_that_names_a_city_topic_is_the_choice(stack, conversation: Conversation):
    talk = conversation
    assert "What was dumped?" in talk.text("someone dumped stuff in the alley behind my house")
    reply = talk.text("furniture or mattress")
    assert "Where is it?" in reply and "bulk" not in reply.lower(), talk.transcript


def test_street_or_pavement_is_no_location_and_is_asked_again(stack, conversation: Conversation):
    talk = conversation
    assert "Where is the water coming from?" in talk.text("water is leaking from the street")
    assert "Where is it?" in talk.text("fire hydrant")
    reply = talk.text("street or pavement")
    assert "12 Elm Street" in reply and "looks already reported" not in reply, talk.transcript
    assert talk.tracker()["slots"]["location"] is None
    address = unique_address()
    assert "describe the problem" in talk.text(address), talk.transcript
    assert talk.tracker()["slots"]["location"] == address


def test_a_landmark_is_a_location_with_its_address(stack, conversation: Conversation):
    talk = conversation
    talk.text("there's a big pothole I want to report")
    talk.text("small")
    talk.text("skip")
    assert "describe the problem" in talk.text("right in front of the library"), talk.transcript
    assert talk.tracker()["slots"]["location"] == "right in front of the library (Main Library, 50 Elm Street)"


@pytest.mark.parametrize(
    "complaint",
    [
        "they forgot to empty my yard waste cart",
        "the truck skipped my recycling this week",
        "the garbage truck never came today",
    ],
)
def test_a_complaint_about_a_missed_collection_is_a_missed_collection_report(conversation, complaint):
    reply = conversation.text(complaint)
    assert "Which bin was missed?" in reply or "Was it at the curb" in reply, conversation.transcript


def test_a_plain_question_about_the_recycling_bin_is_answered(conversation):
    reply = conversation.text("what goes in the recycling bin?")
    assert "cardboard" in reply.lower(), conversation.transcript


@pytest.mark.parametrize(
    "line",
    [
        "how do I jump start my car",
        "where did I park my car",
        "where can I get my car washed around here",
        "can you order me a new phone charger",
        "look up the population of Canada",
    ],
)
def test_everyday_questions_start_no_report_and_no_handoff(conversation, line):
    talk = conversation
    talk.text(line)
    tracker = talk.tracker()
    assert not (tracker.get("active_loop") or {}).get("name"), talk.transcript
    assert not tracker.get("paused"), talk.transcript


def test_a_long_story_about_a_city_problem_starts_its_report(conversation: Conversation):
    """Read as one bag of words such a story looks off-topic; one of its sentences is a pothole."""
    talk = conversation
    talk.text(
        "I have lived in Riverton for twenty years and raised three kids here. I love this town, the people "
        "are friendly and the farmers market is the best. Lately I walk to the grocery store on Mill Road most "
        "mornings. There is a deep pothole at the crosswalk by the store. I saw an older gentleman stumble there "
        "last week. I don't know who else to tell, honestly."
    )
    tracker = talk.tracker()
    assert tracker["slots"]["service_code"] == "POTHOLE", talk.transcript
    assert (tracker.get("active_loop") or {}).get("name") == "service_request_form", talk.transcript
