"""A reply to a free-text question is the answer unless it is clearly something else."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.reports.free_text import (
    ANSWER,
    ELSEWHERE,
    UNSURE,
    Reply,
    answer_action,
    read_free_text,
    reads_as_question,
    says_it_is_the_answer,
)


def reply(text: str, intent: Optional[str], confidence: float = 0.95, just_answered: bool = False) -> Reply:
    return Reply(
        text,
        intent,
        confidence,
        topic="faq/property_tax" if intent == "faq" else None,
        topic_just_answered=just_answered,
    )


@pytest.mark.parametrize(
    "text",
    ["public property", "furniture or mattress", "yard waste", "propiedad pública", "the recycling bin is blue"],
)
def test_words_that_name_a_city_topic_are_the_answer_when_they_ask_nothing(text: str) -> None:
    assert read_free_text(reply(text, "faq", 0.99)) == ANSWER


@pytest.mark.parametrize("text", ["when is city hall open?", "how do I pay my property tax", "¿a qué hora abren?"])
def test_a_confident_city_question_is_answered_first(text: str) -> None:
    assert read_free_text(reply(text, "faq", 0.9)) == ELSEWHERE


def test_a_question_the_nlu_is_unsure_of_is_asked_about() -> None:
    assert read_free_text(reply("is the tax office open?", "faq", 0.5)) == UNSURE


def test_the_same_city_question_twice_in_a_row_is_the_answer() -> None:
    assert read_free_text(reply("what about property tax?", "faq", 0.99, just_answered=True)) == ANSWER


@pytest.mark.parametrize(
    "text, intent, confidence",
    [
        ("I smell gas", "emergency", 0.6),
        ("cancel", "cancel", 0.9),
        ("/cancel", "cancel", 0.1),
        ("I want a person", "request_human", 0.8),
        ("español", "set_language", 0.9),
        ("/help", "help", 1.0),
    ],
)
def test_emergencies_cancel_a_person_a_language_and_buttons_leave_the_question(
    text: str, intent: str, confidence: float
) -> None:
    assert read_free_text(reply(text, intent, confidence)) == ELSEWHERE


def test_an_unsure_emergency_or_an_ordinary_intent_is_the_answer() -> None:
    assert read_free_text(reply("gas station on the corner", "emergency", 0.3)) == ANSWER
    assert read_free_text(reply("it's been there two weeks", "inform", 0.9)) == ANSWER
    assert read_free_text(reply("ABC 1234", None, 0.0)) == ANSWER


@pytest.mark.parametrize(
    "text, question",
    [
        ("when is it open", True),
        ("qué día pasa la basura", True),
        ("a que hora abren", True),
        ("is it safe?", True),
        ("como dos semanas", False),
        ("que está roto el poste", False),
        ("whatever it is, it's big", False),
    ],
)
def test_what_reads_as_a_question(text: str, question: bool) -> None:
    assert reads_as_question(text) is question


@pytest.mark.parametrize(
    "text, intent, verdict",
    [
        ("/affirm", "affirm", True),
        ("it's the description", None, True),
        ("es mi respuesta", None, True),
        ("yes", "affirm", True),
        ("/deny", "deny", False),
        ("it's not the description, it's a question", None, False),
        ("una pregunta", None, False),
        ("the truck came by", "inform", None),
    ],
)
def test_the_answer_to_which_is_it(text: str, intent: Optional[str], verdict: Optional[bool]) -> None:
    assert says_it_is_the_answer(text, intent) is verdict


def test_the_response_answering_a_city_question() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.8},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/property_tax"}}},
    }
    assert answer_action(parse) == "utter_faq/property_tax"
    assert answer_action({"intent": {"name": "greet"}}) is None


@pytest.mark.parametrize("text", ["cuando llueve se inunda la esquina", "donde paran los camiones"])
def test_spanish_answers_that_start_like_an_unaccented_question_are_answers(text: str) -> None:
    assert not reads_as_question(text)
