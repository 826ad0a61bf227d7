"""NLU components for long messages: a story of several sentences is also read sentence by sentence.

The intent classifier reads a message as one bag of words. A resident who tells
the whole story ("We moved in recently and there is a car parked in front of
it. It has been there for months. The hood is open. Can I have it towed?")
gives it dozens of words, most of them about the resident's life, and the
classifier can then be sure, wrongly, that the message is not about the city.
Each sentence alone is short and plain. `SentencesOfLongMessages` (first in the
pipeline) adds each sentence of a long message to the messages the pipeline
reads; `ReportFromSentences` (after the classifiers and the fallback) takes
them out again and, when the whole message was not understood or read as a
report, makes its intent the report the whole and its sentences describe most
surely. Neither is trained (they are not in the training graph): only
predictions change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext.nlu import NOT_UNDERSTOOD, set_top_intent

# The key a sentence's message carries: the message it was taken from.
SENTENCE_OF = "sentence_of"
REPORT_PREFIX = "report_"

# A sentence ends at . ! ? (or …) followed by space, except after an initial ("S. Highland")
# or a street or title abbreviation ("St.", "Ave.", "Sra.").
ABBREVIATIONS = frozenset("st ave av rd dr blvd ln ct pl hwy no mr mrs ms dr sr sra srta col calle apt jr".split())
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
LAST_WORD = re.compile(r"([\w'’]+)[^\w'’]*$")


def sentences(text: str) -> List[str]:
    """The sentences of `text`, split where one ends and keeping abbreviations and initials."""
    pieces: List[str] = []
    for piece in SENTENCE_END.split(text.strip()):
        if pieces and _ends_in_abbreviation(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        elif piece:
            pieces.append(piece)
    return pieces


def _ends_in_abbreviation(piece: str) -> bool:
    if not piece.endswith("."):
        return False
    found = LAST_WORD.search(piece[:-1])
    word = found.group(1) if found else ""
    return len(word) == 1 or word.lower() in ABBREVIATIONS


class FromConfig(GraphComponent):
    """A component made from its configuration alone (nothing trained, nothing stored)."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SentencesOfLongMessages(FromConfig):
    """Adds each sentence of a long message to the messages to read (first in the pipeline).

    A message is long when it has at least `min_sentences` sentences and
    `min_words` words. Button payloads ("/intent") are never split.
    """

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.min_sentences = int(config["min_sentences"])
        self.min_words = int(config["min_words"])

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_sentences": 2, "min_words": 20}

    def process(self, messages: List[Message]) -> List[Message]:
        """The messages, then one message for each sentence of each long one."""
        added = []
        for index, message in enumerate(messages):
            for sentence in self.sentences_of(message.get(TEXT) or ""):
                added.append(Message(data={TEXT: sentence, SENTENCE_OF: index}))
        return [*messages, *added] if added else messages

    def sentences_of(self, text: str) -> List[str]:
        """The sentences of a long message's text; none for a short one or a button payload."""
        if text.startswith("/") or len(text.split()) < self.min_words:
            return []
        found = sentences(text)
        return found if len(found) >= self.min_sentences else []


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ReportFromSentences(FromConfig):
    """Takes the sentences back out; a long message not understood, or read as a report, becomes
    the report that the whole message and its sentences describe most surely.

    Read as one bag of words, a long story can be out of scope, or one report
    where nearly every sentence describes another (a car parked for months read
    as a pothole). The whole message counts as one more reading: each report
    scores its confidence in the whole message's ranking plus the confidence of
    each sentence classified as it with at least `sentence_threshold`, and the
    best score wins. A report no sentence is sure of never replaces a message
    not understood. A message understood as anything but a report (a question,
    a status, an emergency) keeps its intent, and a sentence alone never makes
    an emergency (that stays with the emergency phrases and the classifier).
    Put it after the fallback classifier and before OwnReferences.
    """

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.sentence_threshold = float(config["sentence_threshold"])

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"sentence_threshold": 0.6}

    def process(self, messages: List[Message]) -> List[Message]:
        """The original messages, the long ones not understood or read as a report given their best report."""
        originals = [message for message in messages if message.get(SENTENCE_OF) is None]
        if len(originals) == len(messages):
            return messages
        of_message: Dict[int, List[Message]] = defaultdict(list)
        for message in messages[len(originals) :]:
            of_message[message.get(SENTENCE_OF)].append(message)
        for index, parts in of_message.items():
            whole = originals[index]
            read_as = intent_name(whole) or ""
            if read_as not in NOT_UNDERSTOOD and not read_as.startswith(REPORT_PREFIX):
                continue
            report = self.report_of(whole, read_as, parts)
            if report and report != read_as:
                set_top_intent(whole, report, max(best_confidence(parts, report), ranked_confidence(whole, report)))
        return originals

    def report_of(self, whole: Message, read_as: str, parts: List[Message]) -> Optional[str]:
        """The report with the most confidence over the whole message (read as `read_as`) and its sure sentences.

        The candidates are the reports a sentence is sure of, and the whole message's own when it is one.
        """
        sure: Dict[str, float] = defaultdict(float)
        for part in parts:
            name, confidence = intent_name(part) or "", confidence_of(part)
            if name.startswith(REPORT_PREFIX) and confidence >= self.sentence_threshold:
                sure[name] += confidence
        candidates = {*sure, read_as} if read_as.startswith(REPORT_PREFIX) else set(sure)
        scores = {name: ranked_confidence(whole, name) + sure.get(name, 0.0) for name in candidates}
        # A tie goes to the whole message's own reading, then to the first name (the same answer every time).
        return max(sorted(scores), key=lambda name: (scores[name], name == read_as)) if scores else None


def intent_name(message: Message) -> Optional[str]:
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)


def best_confidence(parts: List[Message], name: str) -> float:
    """The best confidence any sentence gave `name`."""
    return max(confidence_of(part) for part in parts if intent_name(part) == name)


def ranked_confidence(message: Message, name: str) -> float:
    """`name`'s confidence in the message's intent ranking (0 when it is not ranked)."""
    ranking = message.get(INTENT_RANKING_KEY) or []
    return max(
        (float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in ranking if r.get(INTENT_NAME_KEY) == name), default=0.0
    )


def confidence_of(message: Message) -> float:
    return float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
