"""NLU components of the assistant's pipeline (config.yml)."""
from __future__ import annotations

from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
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
class UnsureAnswerFallback(GraphComponent, IntentClassifier):
    """A city question whose best answer is a guess gets Rasa's fallback intent, as an unsure intent does.

    "faq" covers every city question, so questions the city has no answer for
    (and many a chatbot is not for) are classified `faq` with high confidence;
    the ResponseSelector then picks its closest answer with low confidence.
    When that confidence is below `threshold`, the message gets `nlu_fallback`
    exactly as FallbackClassifier gives it, and the resident hears that the bot
    did not understand instead of an answer to another question. Put it after
    the ResponseSelector and FallbackClassifier in the pipeline.
    """

    @classmethod
    def required_components(cls) -> List[Type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"retrieval_intent": "faq", "threshold": 0.3}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(
        cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "UnsureAnswerFallback":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Give the fallback intent to the messages whose selected answer is unsure."""
        for message in messages:
            if self.answer_is_unsure(message):
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: self.component_config["threshold"]}
                message.data[INTENT] = dict(fallback)
                message.data.setdefault(INTENT_RANKING_KEY, [])
                message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
        return messages

    def answer_is_unsure(self, message: Message) -> bool:
        retrieval_intent = self.component_config["retrieval_intent"]
        if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != retrieval_intent:
            return False
        response = ((message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(retrieval_intent) or {}).get("response") or {}
        confidence = response.get(PREDICTED_CONFIDENCE_KEY)
        return confidence is not None and confidence < self.component_config["threshold"]
