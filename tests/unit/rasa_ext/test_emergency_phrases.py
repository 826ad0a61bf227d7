"""An emergency's words make a message `emergency` whatever the classifier said, in either language."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.nlu import EmergencyPhrases, emergency_words
from bot.reports.free_text import ANSWER, ELSEWHERE, Reply, read_free_text


def classified(text: str, intent: str = "out_of_scope", confidence: float = 1.0) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    "text",
    [
        "my dad is having chest pain",
        "there are gunshots on my block",
        "I think my neighbor overdosed, he's unconscious",
        "Can't breathe, please help",
        "water is coming in under the front door",
        "my neighbor fell off his ladder, someone is hurt",
        "the river water is getting into our living room",
        "mi papá tiene dolor en el pecho",
        "se escucharon balazos en la esquina",
        "hay un cable de luz tirado echando chispas",
        "huele a gas en todo el edificio",
        "Se está quemando la casa de al lado!!",
    ],
)
def test_an_emergency_the_classifier_missed_becomes_one(text: str) -> None:
    (message,) = EmergencyPhrases(emergency_words()).process([classified(text)])
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["emergency", "out_of_scope"]


@pytest.mark.parametrize(
    "text",
    [
        "the fire hydrant on my corner is leaking",
        "la boca de incendio está abierta y sale agua",
        "where is the nearest gas station",
        "when is the fire station open house",
        "I want to report a pothole",
        "how do I pay my water bill",
        "/report_water_leak",
    ],
)
def test_other_messages_keep_the_classifiers_intent(text: str) -> None:
    (message,) = EmergencyPhrases(emergency_words()).process([classified(text, "report_water_leak", 0.9)])
    assert message.get("intent")["name"] == "report_water_leak"


def unsure(text: str, *guesses: str) -> Message:
    """The fallback, as Rasa's FallbackClassifier leaves it: first in the ranking, the classifier's guesses after."""
    message = Message(data={"text": text})
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.3}, add_to_output=True)
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}] + [{"name": g, "confidence": 0.29} for g in guesses]
    message.set("intent_ranking", ranking, add_to_output=True)
    return message


def test_an_unsure_classifier_whose_best_guess_is_an_emergency_gives_the_emergency_at_its_confidence() -> None:
    """The 911 answer, yet not enough to take a resident out of a report (bot/reports/free_text.py)."""
    (message,) = EmergencyPhrases(emergency_words()).process([unsure("the basement is filling up", "emergency", "faq")])
    assert message.get("intent") == {"name": "emergency", "confidence": 0.29}
    reply = Reply.from_parse({"text": message.get("text"), "intent": message.get("intent")})
    assert read_free_text(reply) == ANSWER


def test_an_emergencys_words_leave_a_report() -> None:
    (message,) = EmergencyPhrases(emergency_words()).process([unsure("smoke coming out of the basement", "faq")])
    assert message.get("intent") == {"name": "emergency", "confidence": 1.0}
    reply = Reply.from_parse({"text": message.get("text"), "intent": message.get("intent")})
    assert read_free_text(reply) == ELSEWHERE


@pytest.mark.parametrize("guesses", [("faq", "emergency"), ("request_human",), ()])
def test_an_unsure_classifier_with_another_best_guess_keeps_the_fallback(guesses) -> None:
    (message,) = EmergencyPhrases(emergency_words()).process([unsure("the basement is filling up", *guesses)])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_a_confident_other_intent_is_kept_even_with_emergency_second() -> None:
    message = classified("the basement is filling up", "faq", 0.6)
    message.set("intent_ranking", [{"name": "faq", "confidence": 0.6}, {"name": "emergency", "confidence": 0.3}])
    (message,) = EmergencyPhrases(emergency_words()).process([message])
    assert message.get("intent")["name"] == "faq"
