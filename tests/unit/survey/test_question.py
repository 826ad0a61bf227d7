"""The survey's texts in each language and the scores its replies give."""

from __future__ import annotations

import json

from bot.channels.sms_format import payloads_of, pick_choice
from bot.survey.question import comment_question, question, rate_payload, score_of


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
