"""The held-out sets measure what the model never saw: they parse, use the domain's labels, and leak nowhere.

Every sentence of tests/data/nlu_holdout*.yml is compared with every line of
every data/**/*.yml (training examples in any language, lookups, synonyms,
responses), ignoring case, accents, punctuation and spacing: a held-out
sentence that reaches the training data would inflate `make eval`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import yaml

from bench.eval import NEUTRAL, load_language_id

REPO_ROOT = Path(__file__).resolve().parents[3]
TEST_DATA = REPO_ROOT / "tests" / "data"
HOLDOUTS = {"en": TEST_DATA / "nlu_holdout.yml", "es": TEST_DATA / "nlu_holdout_es.yml"}
MIN_PER_LABEL = 8
MIN_EMERGENCIES = 20
MIN_LANGUAGE_ID = {"en": 150, "es": 150, NEUTRAL: 40}
ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalised(text: str) -> str:
    """Entity markup, case, accents, punctuation and spacing dropped: "¿Qué  HORA?" is "que hora"."""
    plain = unicodedata.normalize("NFKD", ENTITY.sub(r"\1", text).casefold())
    letters = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", letters))


@lru_cache(maxsize=None)
def holdout(language: str) -> Tuple[Tuple[str, str], ...]:
    """(text, label) of a held-out set as Rasa reads it; FAQ examples keep their topic."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(HOLDOUTS[language]))
    return tuple((ex.get("text"), ex.get("intent_response_key") or ex.get("intent")) for ex in data.intent_examples)


def strings_in(node: Any) -> Iterator[str]:
    """Every line of every string value in a YAML document (an examples block gives one line per example)."""
    if isinstance(node, str):
        for line in node.splitlines():
            yield line.strip().removeprefix("- ")
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


@lru_cache(maxsize=1)
def training_sentences() -> frozenset:
    files = sorted((REPO_ROOT / "data").rglob("*.yml"))
    assert files, "no data/**/*.yml found"
    return frozenset(
        normalised(line) for path in files for line in strings_in(yaml.safe_load(path.read_text(encoding="utf-8")))
    ) - {""}


def domain_intents() -> List[str]:
    from rasa.shared.core.domain import Domain

    return list(Domain.load(str(REPO_ROOT / "domain.yml")).intents)


def response_names() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return list(load_data(str(REPO_ROOT / "data" / "nlu")).responses)


def test_normalised_ignores_case_accents_punctuation_spacing_and_entity_markup() -> None:
    assert normalised("  ¿Qué   HORA abren? ") == normalised("que hora abren")
    assert normalised("check [R-9ZK4PQ](request_id)") == normalised("check r 9zk4pq")
    assert normalised('en [español]{"entity": "language"}') == "en espanol"
    assert normalised("bache") != normalised("baches")


@pytest.mark.parametrize("language", sorted(HOLDOUTS))
def test_a_holdout_set_uses_only_labels_the_assistant_knows(language: str) -> None:
    intents, responses = set(domain_intents()), set(response_names())
    labels = {label for _, label in holdout(language)}
    assert labels
    assert {label.split("/")[0] for label in labels} <= intents
    topics = {label for label in labels if "/" in label}
    assert {f"utter_{topic}" for topic in topics} <= responses, "a FAQ topic with no answer"


@pytest.mark.parametrize("language", sorted(HOLDOUTS))
def test_no_holdout_sentence_is_in_the_training_data(language: str) -> None:
    training = training_sentences()
    assert len(training) > 500  # the walk found the training examples
    leaked = [text for text, _ in holdout(language) if normalised(text) in training]
    assert leaked == []


@pytest.mark.parametrize("language", sorted(HOLDOUTS))
def test_no_sentence_repeats_within_a_holdout_set(language: str) -> None:
    counts = Counter(normalised(text) for text, _ in holdout(language))
    assert [text for text, n in counts.items() if n > 1] == []


def test_the_spanish_set_has_the_english_labels_with_enough_examples_each() -> None:
    english = {label for _, label in holdout("en")}
    spanish = Counter(label for _, label in holdout("es"))
    assert set(spanish) == english
    assert {label: n for label, n in spanish.items() if n < MIN_PER_LABEL} == {}
    assert spanish["emergency"] >= MIN_EMERGENCIES


def test_the_language_id_set_is_big_enough_and_labels_each_message_once() -> None:
    items = load_language_id()
    assert {label: len(texts) for label, texts in items.items() if len(texts) < MIN_LANGUAGE_ID[label]} == {}
    assert set(MIN_LANGUAGE_ID) <= set(items)
    every = Counter(text.strip().casefold() for texts in items.values() for text in texts)
    assert [text for text, n in every.items() if n > 1] == []
