"""CLINC150's allowed splits become out-of-scope examples at training time; its val and test splits never do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.rasa_ext.negatives import CITY_LIKE_INTENTS, OutOfScopeNegatives, negative_sentences

DATASET = {
    "oos_train": [["what is the meaning of life", "oos"], ["book me a table", "oos"]],
    "train": [[f"jump start {n}", "jump_start"] for n in range(20)] + [["hello there", "greeting"], ["tax q", "taxes"]],
    "oos_val": [["val sentence", "oos"]],
    "val": [["val intent sentence", "jump_start"]],
    "oos_test": [["test sentence", "oos"]],
    "test": [["test intent sentence", "jump_start"]],
}


def test_oos_train_whole_and_a_sample_of_each_intent_the_city_cannot_help_with() -> None:
    sentences = negative_sentences(DATASET, per_intent=5)
    assert sentences[:2] == ["what is the meaning of life", "book me a table"]
    assert len([s for s in sentences if s.startswith("jump start")]) == 5
    assert "hello there" not in sentences and "tax q" not in sentences  # close to what the city does
    assert {"greeting", "taxes"} <= CITY_LIKE_INTENTS
    held_out = {text for split in ("oos_val", "val", "oos_test", "test") for text, _ in DATASET[split]}
    assert not held_out & set(sentences)
    assert negative_sentences(DATASET, per_intent=5) == sentences  # the same sample every training


def test_the_importer_adds_them_as_out_of_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(DATASET))
    monkeypatch.setenv("OUT_OF_SCOPE_NEGATIVES", str(path))
    examples = OutOfScopeNegatives(per_intent=3).get_nlu_data().intent_examples
    assert len(examples) == 2 + 3
    assert {example.get("intent") for example in examples} == {"out_of_scope"}


def test_without_the_file_training_goes_on_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OUT_OF_SCOPE_NEGATIVES", str(tmp_path / "missing.json"))
    assert OutOfScopeNegatives().get_nlu_data().intent_examples == []
    assert "training without them" in caplog.text
