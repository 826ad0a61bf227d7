"""A not-understood message holding one of the assistant's references asks for that report's status."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.nlu import OwnReferences
from bot.reports.outbox import new_reference


def classified(text: str, intent: str) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": 0.94})
    message.set("intent_ranking", [{"name": intent, "confidence": 0.94}, {"name": "check_status", "confidence": 0.03}])
    return message


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback"])
@pytest.mark.parametrize(
    "text", ["any news on R-HT6Y3W?", "r-kvj88h", "¿y el R-7KQ2M?", f"what about {new_reference()}"]
)
def test_a_reference_the_classifier_did_not_understand_is_a_status_question(text: str, intent: str) -> None:
    (message,) = OwnReferences().process([classified(text, intent)])
    assert message.get("intent") == {"name": "check_status", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["check_status", intent]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("any news on R-HT6Y3W?", "emergency"),  # understood: kept
        ("R-HT6Y3W is wrong, the pothole is on Elm", "report_pothole"),
        ("what's the weather in R-HT", "out_of_scope"),  # too short for a reference
        ("call XR-HT6Y3W2 now", "out_of_scope"),  # inside another word
        ('/set_language{"language": "es"} R-HT6Y3W', "out_of_scope"),  # a button's payload
    ],
)
def test_other_messages_keep_the_classifiers_intent(text: str, intent: str) -> None:
    (message,) = OwnReferences().process([classified(text, intent)])
    assert message.get("intent")["name"] == intent
