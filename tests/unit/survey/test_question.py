"""The survey's texts in each language and the scores its replies give."""

from __future__ import annotations

import json

import pytest

from bot.channels.sms_format import payloads_of, pick_choice
from bot.survey.question import comment_question, question, rate_payload, score_of, typed_score


def test_the_buttons_send_the_intent_with_the_score() -> None:
    payload = rate_payload(4)
    assert payload == '/rate_service{"score": 4}'
    assert json.loads(payload[len("/rate_service") :]) == {"score": 4}


def test_a_bare_digit_on_sms_picks_that_score() -> None:
    _, buttons = question("en")
    assert pick_choice("4", payloads_of(buttons)) == rate_payload(4)
    assert pick_choice("6", payloads_of(buttons)) is None


def test_each_language_has_its_own_texts() -> None:
    english, spanish = question("en"), question("es")
    assert english[0].startswith("How did we do?") and spanish[0].startswith("¿Cómo lo hicimos?")
    assert [b["payload"] for b in english[1]] == [b["payload"] for b in spanish[1]]
    assert comment_question("en")[1][0]["title"] == "Skip" and comment_question("es")[1][0]["title"] == "Omitir"


def test_scores_from_an_entity_or_the_text() -> None:
    assert score_of([{"entity": "score", "value": "5"}], '/rate_service{"score": 5}') == 5
    assert score_of([{"entity": "score", "value": 9}], "") is None
    assert score_of([], "I'd give it a 4 out of 5") == 4
    assert score_of([], "request 1042") is None
    assert score_of([], "great") is None


@pytest.mark.parametrize(
    "text,score",
    [
        ("4", 4),
        ("5!", 5),
        ("4/5", 4),
        ("4 / 5", 4),
        ("4 out of 5", 4),
        ("5 stars", 5),
        ("1 star", 1),
        ("5 out of 5 stars", 5),
        ("I'd give it a 5", 5),
        ("I\u2019d give it a five", 5),
        ("id give it a 5", 5),
        ("rating: 2", 2),
        ("four", 4),
        ("two out of five", 2),
        ("un 4", 4),
        ("le doy un 5", 5),
        ("Le daría un 4 de 5", 4),
        ("cuatro", 4),
        ("dos de cinco", 2),
        ("3 de 5", 3),
        ("cinco estrellas", 5),
        ("calificación: 3", 3),
    ],
)
def test_a_message_that_is_only_a_score_is_that_score(text: str, score: int) -> None:
    assert typed_score(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "the 4 potholes are still there",
        "4 potholes",
        "los 4 baches siguen ahí",
        "4 please",
        "give me 5 minutes",
        "request 1042",
        "R-4",
        "10",
        "0",
        "6",
        "45",
        "4.5",
        "4 5",
        "4 and 5",
        "4 out of 10",
        "great",
        "yes",
        "",
    ],
)
def test_a_message_with_anything_else_is_no_score(text: str) -> None:
    assert typed_score(text) is None


def test_a_score_in_words_from_the_nlu_is_read_too() -> None:
    assert score_of([], "five stars") == 5 and score_of([], "dos de cinco") == 2
    assert score_of([], "5/5 great service") == 5  # the NLU said it is a score: its first digit 1-5
