"""NLU components of the assistant's pipeline (config.yml)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

EMERGENCY_INTENT = "emergency"
STATUS_INTENT = "check_status"
FALLBACK_INTENT = "nlu_fallback"
# What a message carrying one of the assistant's references may not be left as.
NOT_UNDERSTOOD = frozenset({"out_of_scope", FALLBACK_INTENT})


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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyPhrases(GraphComponent):
    """Any message with an emergency's words is `emergency`, whatever the classifier said.

    A resident whose father has chest pain must get the 911 answer even when
    the classifier, trained on everyday questions, is unsure or wrong. The words
    of each city language are in `bot/i18n/locales/<lang>/words/emergency.yml`
    (`phrases`, and `not_emergencies` such as "fire hydrant" that mean something
    else), read when the model loads, so a city adds one without retraining.
    A message the classifier was unsure of, whose likeliest intent is an
    emergency, is one too: in doubt, the 911 answer costs a sentence, its
    absence may cost a life. It keeps the classifier's own low confidence,
    though, so that inside a report a description the classifier merely
    hesitated over ("it's in front of the corner store") stays the description
    (bot/reports/free_text.py leaves a report only for a confident emergency).
    Put it last in the pipeline, after the fallback classifier.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyPhrases":
        return cls(emergency_words())

    def __init__(self, words: "EmergencyWords") -> None:
        self.words = words

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark as `emergency` the messages that hold an emergency's words (confidence 1), and those
        the classifier was unsure of (the fallback) with an emergency as its best guess (its confidence)."""
        for message in messages:
            if self.words.in_text(message.get(TEXT) or ""):
                mark_emergency(message)
            else:
                guess = unsure_emergency_guess(message)
                if guess is not None:
                    set_top_intent(message, EMERGENCY_INTENT, guess)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OwnReferences(GraphComponent):
    """A message holding one of the assistant's report references (R-KVJ88H) is a status question
    when the classifier found it out of scope or was unsure.

    The references are random letters and digits: the classifier has never seen
    the one a resident types, and "any news on R-HT6Y3W?" must not get "I can't
    help with that". Only those two outcomes change; an emergency or a report
    that mentions a reference keeps its intent. Put it before EmergencyPhrases.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OwnReferences":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark the not-understood messages that hold a reference as `check_status`."""
        from bot.reports.outbox import LOCAL_REFERENCE

        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent in NOT_UNDERSTOOD and not text.startswith("/") and LOCAL_REFERENCE.search(text):
                set_top_intent(message, STATUS_INTENT)
        return messages


@dataclass(frozen=True)
class EmergencyWords:
    """Every city language's emergency phrases and the phrases that mean something else, normalised."""

    phrases: Tuple[str, ...]
    not_emergencies: Tuple[str, ...]

    def in_text(self, text: str) -> bool:
        """Whether `text` holds an emergency phrase and no phrase that means something else."""
        if text.startswith("/"):
            return False  # a button's payload is the resident's choice already
        said = f" {normalise(text)} "
        if any(f" {phrase} " in said for phrase in self.not_emergencies):
            return False
        return any(f" {phrase} " in said for phrase in self.phrases)


def emergency_words() -> EmergencyWords:
    """The emergency phrases of every city language (bot/i18n/locales/<lang>/words/emergency.yml)."""
    from bot.i18n.words import word_list

    def normalised(name: str) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(said for said in (normalise(w) for w in word_list("emergency", name)) if said))

    return EmergencyWords(normalised("phrases"), normalised("not_emergencies"))


def normalise(text: str) -> str:
    """Lower-case words without accents or punctuation, single-spaced ("Can't  breathe!" -> "cant breathe")."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("'", "").replace("’", ""))
    return " ".join(re.findall(r"[a-z0-9]+", "".join(ch for ch in decomposed if not unicodedata.combining(ch))))


def unsure_emergency_guess(message: Message) -> Optional[float]:
    """The confidence of an emergency guessed by a classifier that was unsure (the fallback), else None."""
    if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != FALLBACK_INTENT:
        return None
    guesses = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
    if not guesses or guesses[0].get(INTENT_NAME_KEY) != EMERGENCY_INTENT:
        return None
    return float(guesses[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0)


def mark_emergency(message: Message) -> None:
    """Make `emergency` the message's intent, at the top of its ranking."""
    set_top_intent(message, EMERGENCY_INTENT)


def set_top_intent(message: Message, name: str, confidence: float = 1.0) -> None:
    """Make `name` the message's intent (confidence 1 unless given), at the top of its ranking."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
