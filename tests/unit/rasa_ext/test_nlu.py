"""bot/rasa_ext/nlu.py: the pipeline's own components."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.nlu import AnswerAwareFallbackClassifier


def parsed(intent: str, answer_confidence: Optional[float], intent_confidence: float = 0.98) -> Message:
    """A message as it leaves the ResponseSelector: its intent, ranking and selected answer."""
    data: Dict[str, Any] = {
        "text": "a question",
        "intent": {"name": intent, "confidence": intent_confidence},
        "intent_ranking": [{"name": intent, "confidence": intent_confidence}, {"name": "greet", "confidence": 0.01}],
    }
    if answer_confidence is not None:
        data["response_selector"] = {
            "faq": {
                "response": {"intent_response_key": "faq/trash_day", "confidence": answer_confidence},
                "ranking": [],
            }
        }
    return Message(data=data)


@pytest.fixture
def fallback(tmp_path: Path) -> AnswerAwareFallbackClassifier:
    config = {
        **AnswerAwareFallbackClassifier.get_default_config(),
        "threshold": 0.3,
        "ambiguity_threshold": 0.05,
        "answer_threshold": 0.3,
    }
    return AnswerAwareFallbackClassifier.create(
        config, LocalModelStorage(tmp_path), Resource("unsure"), ExecutionContext(GraphSchema({}), "test")
    )


def test_an_unsure_answer_gets_the_fallback_intent(fallback: AnswerAwareFallbackClassifier):
    message = fallback.process([parsed("faq", 0.12)])[0]
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.3}  # as FallbackClassifier gives it
    assert [entry["name"] for entry in message.get("intent_ranking")] == ["nlu_fallback", "faq", "greet"]


def test_an_unsure_intent_still_gets_the_fallback_intent(fallback: AnswerAwareFallbackClassifier):
    message = fallback.process([parsed("faq", 0.91, intent_confidence=0.2)])[0]  # FallbackClassifier's own case
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.3}
    assert [entry["name"] for entry in message.get("intent_ranking")] == ["nlu_fallback", "faq", "greet"]


@pytest.mark.parametrize(
    "intent,confidence", [("faq", 0.3), ("faq", 0.91), ("faq", None), ("report_pothole", 0.1), ("nlu_fallback", 0.1)]
)
def test_other_messages_keep_their_intent(
    fallback: AnswerAwareFallbackClassifier, intent: str, confidence: Optional[float]
):
    message = fallback.process([parsed(intent, confidence)])[0]
    assert message.get("intent") == {"name": intent, "confidence": 0.98}
    assert len(message.get("intent_ranking")) == 2


def test_the_model_still_answers_city_questions(trained_model: Path):
    """The trained pipeline ends with the answer-aware fallback, and the city's questions keep their answers."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    components = [
        getattr(node, "_component", None) for node in agent.processor.graph_runner._instantiated_nodes.values()
    ]
    assert any(isinstance(component, AnswerAwareFallbackClassifier) for component in components)
    questions = ["when is my garbage picked up?", "how do I pay a parking ticket?", "what are city hall's hours?"]

    async def parses() -> list:
        return [await agent.parse_message(text) for text in questions]

    for parse in asyncio.run(parses()):
        assert parse["intent"]["name"] == "faq", parse["text"]
        assert parse["response_selector"]["faq"]["response"]["confidence"] >= 0.3
