"""`make eval`'s scoring: held-out sets per language, emergencies missed, language identification, the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

from bench import eval as evaluation
from bench.eval import (
    HoldoutSet,
    clinc_oos_texts,
    emergency_figures,
    holdout_figures,
    language_id_figures,
    load_language_id,
    score_holdout,
    summary_lines,
)
from bot.i18n.choice import Turn
from bot.i18n.detection import Detection


def test_holdout_figures_count_faq_topics_apart_and_together() -> None:
    gold = ["greet", "faq/trash_day", "faq/property_tax", "emergency"]
    predicted = ["greet", "faq/property_tax", "faq/property_tax", "emergency"]
    figures = holdout_figures(["a", "b", "c", "d"], gold, predicted)
    assert figures["examples"] == 4
    assert figures["accuracy"] == 0.75
    assert figures["intent_accuracy"] == 1.0  # the wrong topic is still the faq intent
    assert figures["intent_macro_f1"] == 1.0
    assert figures["macro_f1"] < 1.0
    assert figures["top_confusions"] == [("faq/trash_day -> faq/property_tax", 1)]
    assert figures["emergency_recall"] == 1.0


def test_emergency_recall_is_the_share_predicted_emergency_and_lists_the_misses() -> None:
    texts = ["huele a gas", "hay fuego", "bache", "someone is hurt"]
    gold = ["emergency", "emergency", "report_pothole", "emergency"]
    predicted = ["emergency", "out_of_scope", "emergency", "report_problem"]
    figures = emergency_figures(texts, gold, predicted)
    assert figures["emergency_examples"] == 3
    assert figures["emergency_recall"] == round(1 / 3, 4)  # a false alarm on "bache" is no recall
    assert figures["emergency_missed"] == [
        {"text": "hay fuego", "predicted": "out_of_scope"},
        {"text": "someone is hurt", "predicted": "report_problem"},
    ]


def test_a_set_without_emergencies_has_no_recall() -> None:
    figures = emergency_figures(["hola"], ["greet"], ["greet"])
    assert figures == {"emergency_examples": 0, "emergency_recall": None, "emergency_missed": []}


class FakeParser:
    """Answers every sentence with the label it was given for it; unknown ones are out of scope."""

    def __init__(self, answers: Dict[str, str]) -> None:
        self.answers = answers
        self.asked: List[str] = []

    async def labels(self, texts: Sequence[str]) -> List[str]:
        self.asked.extend(texts)
        return [self.answers.get(text, "out_of_scope") for text in texts]


HOLDOUT_TEXT = """version: "3.1"
nlu:
- intent: check_status
  examples: |
    - estado de [R-8TX2LM](request_id)
- intent: emergency
  examples: |
    - sale humo de la cocina
- intent: faq/library_hours
  examples: |
    - horario de la biblioteca
"""


async def test_a_holdout_set_is_scored_on_plain_text_with_faq_topics(tmp_path: Path) -> None:
    path = tmp_path / "holdout.yml"
    path.write_text(HOLDOUT_TEXT, encoding="utf-8")
    parser = FakeParser({"estado de R-8TX2LM": "check_status", "horario de la biblioteca": "faq/library_hours"})
    figures = await score_holdout(parser, HoldoutSet("holdout_es", "es", path))  # type: ignore[arg-type]
    assert parser.asked == ["estado de R-8TX2LM", "sale humo de la cocina", "horario de la biblioteca"]
    assert figures["language"] == "es"
    assert figures["accuracy"] == round(2 / 3, 4)
    assert figures["emergency_missed"] == [{"text": "sale humo de la cocina", "predicted": "out_of_scope"}]


async def test_a_missing_holdout_file_is_skipped_and_said_so(tmp_path: Path) -> None:
    figures = await score_holdout(FakeParser({}), HoldoutSet("holdout_es", "es", tmp_path / "none.yml"))  # type: ignore[arg-type]
    assert figures["language"] == "es"
    assert "not found" in figures["skipped"]


def test_the_language_id_file_must_use_known_labels_and_quoted_strings(tmp_path: Path) -> None:
    path = tmp_path / "language_id.yml"
    path.write_text('en: ["hello"]\nes: ["hola"]\nneutral: ["12 Elm St"]\n', encoding="utf-8")
    assert load_language_id(path) == {"en": ["hello"], "es": ["hola"], "neutral": ["12 Elm St"]}
    path.write_text('fr: ["bonjour"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown label"):
        load_language_id(path)
    path.write_text("neutral: [ok, no]\n", encoding="utf-8")  # a bare `no` is a boolean to YAML
    with pytest.raises(ValueError, match="quoted strings"):
        load_language_id(path)


@pytest.fixture
def fake_language_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """decide() and detect() by table, so the counting is tested, not the detector."""
    first = {"hello": "en", "hi": "en", "hola": "es", "bache": "en", "sí": "es"}
    detected = {"hello": "en", "hi": "es", "hola": "es", "bache": "es"}

    def decide(turn: Turn) -> str:
        if turn.remembered:
            return "en" if turn.text == "OK" else turn.remembered  # "OK" flips a Spanish reader
        return first[turn.text]

    def detect(text: str) -> Optional[Detection]:
        return Detection(detected[text], 0.9) if text in detected else None

    monkeypatch.setattr(evaluation, "city_languages", lambda: ("en", "es"))
    monkeypatch.setattr(evaluation, "decide", decide)
    monkeypatch.setattr(evaluation, "detect", detect)


@pytest.mark.usefixtures("fake_language_rules")
def test_language_id_scores_first_messages_the_detector_and_neutral_messages() -> None:
    figures = language_id_figures({"en": ["hello", "hi"], "es": ["hola", "bache", "sí"], "neutral": ["12", "OK"]})
    assert figures["en"] == {"examples": 2, "decide_accuracy": 1.0, "detect_accuracy": 0.5, "decided_wrong": []}
    assert figures["es"] == {
        "examples": 3,
        "decide_accuracy": round(2 / 3, 4),
        "detect_accuracy": round(2 / 3, 4),  # no answer for "sí" is a wrong one
        "decided_wrong": ["bache"],
    }
    assert figures["neutral"]["kept"] == {"en": 1.0, "es": 0.5}
    assert figures["neutral"]["kept_every_language"] == 0.5
    assert figures["neutral"]["flipped"] == {"en": [], "es": ["OK"]}


@pytest.mark.usefixtures("fake_language_rules")
def test_a_language_with_no_items_has_no_accuracy() -> None:
    figures = language_id_figures({"en": ["hello"]})
    assert figures["es"]["decide_accuracy"] is None
    assert figures["neutral"] == {
        "examples": 0,
        "kept": {"en": None, "es": None},
        "kept_every_language": None,
        "flipped": {"en": [], "es": []},
    }


def holdout_result(language: str, missed: int) -> Dict[str, object]:
    return {
        "language": language,
        "examples": 100,
        "accuracy": 0.9,
        "macro_f1": 0.85,
        "intent_accuracy": 0.95,
        "intent_macro_f1": 0.9,
        "top_confusions": [],
        "emergency_examples": 20,
        "emergency_recall": (20 - missed) / 20,
        "emergency_missed": [{"text": f"fuego {n}", "predicted": "out_of_scope"} for n in range(missed)],
    }


def test_the_summary_reports_each_language_its_missed_emergencies_and_language_choice() -> None:
    results = {
        "holdout": holdout_result("en", 1),
        "holdout_es": holdout_result("es", 12),
        "language_id": {
            "en": {"examples": 150, "decide_accuracy": 1.0, "detect_accuracy": 0.9, "decided_wrong": []},
            "es": {"examples": 160, "decide_accuracy": 0.875, "detect_accuracy": 0.95, "decided_wrong": ["ya"]},
            "neutral": {"examples": 40, "kept": {"en": 1.0, "es": 0.975}, "kept_every_language": 0.975},
        },
    }
    lines = summary_lines(results)
    assert lines[0] == (
        "held-out en (100 sentences): accuracy 90.0%, macro-F1 0.850 (intents only: 95.0%, 0.900); "
        "emergencies recognised 95.0% (1 of 20 missed)"
    )
    assert lines[1] == "  missed emergency: 'fuego 0' -> out_of_scope"
    assert lines[2].startswith("held-out es (100 sentences): accuracy 90.0%")
    assert lines[2].endswith("emergencies recognised 40.0% (12 of 20 missed)")
    assert lines[3:13] == [f"  missed emergency: 'fuego {n}' -> out_of_scope" for n in range(10)]
    assert lines[13] == "  and 2 more missed emergencies in the report"
    assert (
        lines[14] == "language of a first short message (language_id): en 100.0% of 150, es 87.5% of 160"
        " (detector alone: en 90.0%, es 95.0%)"
    )
    assert lines[15] == "neutral messages (40) keeping a resident's language: en 100.0%, es 97.5%"


def test_the_summary_says_when_a_holdout_set_was_skipped() -> None:
    lines = summary_lines({"holdout_es": {"language": "es", "skipped": "nlu_holdout_es.yml not found"}})
    assert lines == ["held-out es: skipped, nlu_holdout_es.yml not found"]


def test_clinc_in_scope_splits_keep_only_intents_a_city_cannot_help_with(tmp_path: Path) -> None:
    clinc = tmp_path / "data_full.json"
    clinc.write_text(
        json.dumps(
            {
                "val": [["how do i change my oil", "oil_change_how"], ["when is my bill due", "bill_due"]],
                "oos_val": [["how do i get to mars", "oos"]],
            }
        )
    )
    assert clinc_oos_texts(clinc, "val") == ["how do i change my oil"]
    assert clinc_oos_texts(clinc, "oos_val") == ["how do i get to mars"]
