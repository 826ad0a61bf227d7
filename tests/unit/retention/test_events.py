"""An anonymised event keeps what counts (type, time, intent, answer, channel, language) and nothing else."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Dict

from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    EntitiesAdded,
    Event,
    ReminderScheduled,
    SlotSet,
    UserUttered,
)

from bot.retention.events import anonymised, anonymised_event

SECRET = "Ana Ruiz, 12 Willow Lane, +15550104477"


def kept(event: Event) -> Dict[str, Any]:
    data = anonymised_event(event.as_dict())
    assert SECRET not in json.dumps(data)
    assert data["event"] == event.type_name and data["timestamp"] == event.timestamp
    assert Event.from_parameters(data) is not None  # Rasa still reads it
    return data


def test_a_residents_message_keeps_its_intent_answer_and_channel_only() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.91},
        "entities": [{"entity": "location", "value": SECRET}],
        "text": SECRET,
        "message_id": "m1",
        "response_selector": {
            "all_retrieval_intents": ["faq"],  # as Rasa's ResponseSelector writes it, beside the selectors
            "faq": {"response": {"intent_response_key": "faq/privacy", "responses": [{"text": "x"}]}},
        },
        "intent_ranking": [{"name": "faq", "confidence": 0.91}],
    }
    data = kept(
        UserUttered(SECRET, parse["intent"], parse["entities"], parse, input_channel="sms", metadata={"p": SECRET})
    )
    assert data == {
        "event": "user",
        "timestamp": data["timestamp"],
        "input_channel": "sms",
        "text": None,
        "parse_data": {
            "intent": {"name": "faq", "confidence": 0.91},
            "response_selector": {"faq": {"response": {"intent_response_key": "faq/privacy"}}},
        },
    }


def test_an_answer_keeps_its_response_and_staff_author_only() -> None:
    data = kept(BotUttered(SECRET, {"buttons": [{"title": SECRET}]}, {"utter_action": "utter_faq/privacy"}))
    assert data["text"] is None and data["metadata"] == {"utter_action": "utter_faq/privacy"}
    assert kept(BotUttered(SECRET, None, {"staff": "dana"}))["metadata"] == {"staff": "dana"}


def test_slots_keep_their_value_only_when_it_is_a_category() -> None:
    assert kept(SlotSet("language", "es"))["value"] == "es"
    assert kept(SlotSet("service_code", "POTHOLE"))["value"] == "POTHOLE"
    for free_text in ("location", "description", "contact", "attributes"):
        slot = SlotSet(free_text, SECRET)
        assert kept(slot) == {"event": "slot", "timestamp": slot.timestamp, "name": free_text, "value": None}


def test_actions_forms_and_anything_else_keep_names_not_contents() -> None:
    action = kept(ActionExecuted("utter_greet", policy="RulePolicy", confidence=1.0, action_text=SECRET))
    assert (action["name"], action["policy"], action["action_text"]) == ("utter_greet", "RulePolicy", None)
    assert kept(ActiveLoop("service_request_form"))["name"] == "service_request_form"
    assert set(kept(EntitiesAdded([{"entity": "location", "value": SECRET}]))) == {"event", "timestamp"}
    reminder = kept(ReminderScheduled("remind", datetime(2026, 1, 1), name="r1", entities=[{"v": SECRET}]))
    assert "entities" not in reminder and reminder["name"] == "r1"


def test_an_unreadable_row_keeps_nothing() -> None:
    assert anonymised(SECRET) == {"event": "", "timestamp": None}
    assert anonymised(None) == {"event": "", "timestamp": None}
