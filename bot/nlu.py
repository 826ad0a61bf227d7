"""NLU components of the assistant's pipeline (config.yml)."""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
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
