"""Out-of-scope training examples read from a public data set at training time, never copied into data/.

CLINC150 (Larson et al. 2019, CC BY 3.0) holds everyday requests to a
general assistant: its `oos_train` split and the `train` sentences of intents
a city cannot help with (a car's oil change, a bank card, a recipe) are
allowed as negative examples, while its test splits only measure
(`make eval`). Without such negatives, "how do I jump start my car" started an
abandoned-vehicle report and "find my phone" a handoff.

The file stays where the evaluation sets live (`../shared/eval/`, or
`OUT_OF_SCOPE_NEGATIVES`); this importer adds its sentences to the NLU data
Rasa trains on as the `out_of_scope` intent, so none of them ever sits in
`data/`. A checkout without the file trains without them, with one warning.

config.yml:

    importers:
      - name: RasaFileImporter
      - name: bot.rasa_ext.negatives.OutOfScopeNegatives
        per_intent: 8

(See docs/understanding.md for the measurements behind the intents left out
and `per_intent`.)
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.settings import settings

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
DEFAULT_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "clinc150" / "data_full.json"
# Splits allowed for training (the README of the evaluation sets); val and test splits never.
TRAINING_SPLITS = ("oos_train", "train")
# CLINC intents too close to something the city assistant does: left out, not taught as "not the city".
# Small talk it answers (greeting, yes/no, "are you a bot"), city topics (taxes, bills, holidays,
# directions, meetings), a language change, status questions ("what's the status of ..."), and
# sentences that share a channel's words ("my location", "text me") or an emergency's ("gas"), and
# "what is my salary" (income), whose words are a city job's pay question's ("how much does it pay").
CITY_LIKE_INTENTS = frozenset(
    {
        "greeting",
        "goodbye",
        "thank_you",
        "yes",
        "no",
        "maybe",
        "cancel",
        "repeat",
        "are_you_a_bot",
        "what_can_i_ask_you",
        "what_is_your_name",
        "who_made_you",
        "who_do_you_work_for",
        "taxes",
        "pay_bill",
        "bill_due",
        "bill_balance",
        "next_holiday",
        "directions",
        "distance",
        "meeting_schedule",
        "change_language",
        "translate",
        "application_status",
        "order_status",
        "pto_request_status",
        "flight_status",
        "income",
        "share_location",
        "current_location",
        "make_call",
        "text",
        "gas",
        "gas_type",
    }
)


def negative_sentences(
    dataset: Dict[str, Any], per_intent: int, seed: int = 311, left_out: Iterable[str] = CITY_LIKE_INTENTS
) -> List[str]:
    """`oos_train` whole, plus `per_intent` sentences of each training intent the city cannot help with."""
    skipped = frozenset(left_out)
    sentences = [str(text) for text, _label in dataset.get("oos_train", [])]
    by_intent: Dict[str, List[str]] = {}
    for text, label in dataset.get("train", []):
        if label not in skipped:
            by_intent.setdefault(str(label), []).append(str(text))
    rng = random.Random(seed)
    for label in sorted(by_intent):
        pool = by_intent[label]
        sentences.extend(rng.sample(pool, min(per_intent, len(pool))))
    return list(dict.fromkeys(sentences))


class OutOfScopeNegatives(TrainingDataImporter):
    """Adds the allowed CLINC150 sentences to the NLU data as `out_of_scope` examples (nothing else)."""

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Sequence[Text]] = None,
        path: Optional[Text] = None,
        per_intent: int = 8,
        **_: Any,
    ) -> None:
        self.path = Path(settings().out_of_scope_negatives or path or DEFAULT_PATH)
        self.per_intent = int(per_intent)

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        if not self.path.exists():
            logger.warning("out-of-scope negatives not found at %s: training without them", self.path)
            return TrainingData()
        with self.path.open(encoding="utf-8") as handle:
            dataset = json.load(handle)
        examples = [
            Message.build(text=text, intent=OUT_OF_SCOPE) for text in negative_sentences(dataset, self.per_intent)
        ]
        return TrainingData(training_examples=examples)

    def get_domain(self) -> Domain:
        return Domain.empty()

    def get_stories(self, exclusion_percentage: Optional[int] = None) -> StoryGraph:
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        return StoryGraph([])

    def get_config(self) -> Dict:
        return {}

    def get_config_file_for_auto_config(self) -> Optional[Text]:
        return None
