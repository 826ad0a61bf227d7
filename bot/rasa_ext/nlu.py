"""NLU components of the assistant's pipeline (config.yml)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentGatedResponseSelector(ResponseSelector):
    """ResponseSelector that picks an answer only for messages classified as its retrieval intent.

    Rasa runs a ResponseSelector on every message, yet its choice is used only
    when the intent is the retrieval intent (`faq`): for "yes", an address or a
    report, the second neural network ran for nothing (a quarter of the NLU
    time). It must come after the intent classifier in the pipeline. Training
    and the choice for `faq` messages are ResponseSelector's own.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        """Select an answer for the messages whose intent is the retrieval intent."""
        asking = [message for message in messages if self._asks_retrieval_intent(message)]
        if asking:
            super().process(asking)
        return messages

    def _asks_retrieval_intent(self, message: Message) -> bool:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if self.retrieval_intent:
            return intent == self.retrieval_intent
        return intent in self.all_retrieval_intents


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerAwareFallbackClassifier(FallbackClassifier):
    """FallbackClassifier that also falls back when a city question's best answer is a guess.

    "faq" covers every city question, so questions the city has no answer for
    (and many a chatbot is not for) are classified `faq` with high confidence;
    the ResponseSelector then picks its closest answer with low confidence.
    When that confidence is below `answer_threshold`, the message gets
    `nlu_fallback` as an unsure intent does, and the resident hears that the bot
    did not understand instead of an answer to another question. Everything
    else is FallbackClassifier's own; put it after the ResponseSelector.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), "retrieval_intent": "faq", "answer_threshold": 0.3}

    def _should_fallback(self, message: Message) -> bool:
        return super()._should_fallback(message) or self.answer_is_unsure(message)

    def answer_is_unsure(self, message: Message) -> bool:
        retrieval_intent = self.component_config["retrieval_intent"]
        if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != retrieval_intent:
            return False
        response = ((message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(retrieval_intent) or {}).get(
            "response"
        ) or {}
        confidence = response.get(PREDICTED_CONFIDENCE_KEY)
        return confidence is not None and confidence < self.component_config["answer_threshold"]
