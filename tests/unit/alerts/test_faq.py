"""The FAQ answer an alert links to, in the reader's language: the variation conditioned on the language slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts.faq import UNCONDITIONED, faq_answer, faq_answers

DOMAIN = """
responses:
  utter_faq/trash_day:
  - text: "Trash goes out Monday."
    buttons: [{title: "Thanks", payload: "/thanks"}]
  - condition:
      - type: slot
        name: language
        value: es
    text: "La basura se saca el lunes."
  - condition: [{type: slot, name: language, value: es}, {type: slot, name: zone, value: north}]
    text: "Zona norte: la basura se saca el lunes temprano."
  - channel: twilio
    text: "Trash: Monday (SMS)."
  utter_faq/only_in_spanish:
  - condition: [{type: slot, name: language, value: es}]
    text: "Solo en español."
  utter_greet:
  - text: "Hi!"
"""

LATER = """
responses:
  utter_faq/trash_day:
  - text: "Another file's answer is not used: the first one found is."
  - condition: [{type: slot, name: language, value: es}]
    text: "Tampoco esta."
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "faq.yml").write_text(DOMAIN, encoding="utf-8")
    (tmp_path / "domain.yml").write_text(LATER, encoding="utf-8")
    return tmp_path


def test_each_topic_has_its_answer_per_language(project: Path) -> None:
    assert faq_answers(project) == {
        "trash_day": {UNCONDITIONED: "Trash goes out Monday.", "es": "La basura se saca el lunes."},
        "only_in_spanish": {"es": "Solo en español."},
    }


@pytest.mark.parametrize(
    "language, answer",
    [
        ("es", "La basura se saca el lunes."),
        ("es-MX", "La basura se saca el lunes."),
        ("en", "Trash goes out Monday."),
        (None, "Trash goes out Monday."),
        ("fr", "Trash goes out Monday."),  # not a city language: the default's
    ],
)
def test_the_readers_language_else_the_default(project: Path, language: str, answer: str) -> None:
    assert faq_answer("trash_day", language, root=project) == answer


def test_a_topic_with_no_answer_in_the_default_still_has_one(project: Path) -> None:
    assert faq_answer("only_in_spanish", "en", root=project) == "Solo en español."
    assert faq_answer("utter_greet", "en", root=project) is None
    assert faq_answer("../trash_day", "es", root=project) is None


def test_the_projects_answers_are_read_as_before() -> None:
    assert "Cooling centers open" in (faq_answer("cooling_warming_centers") or "")
    assert faq_answer("cooling_warming_centers", "en") == faq_answer("cooling_warming_centers")
