"""Which answers staff may edit, and what the training files say each is, per language."""

from __future__ import annotations

from pathlib import Path

from bot.answers.editable import editable_answers, find_answer, find_response

PROJECT = """
responses:
  utter_faq/trash_day:
  - text: "Trash goes out Monday."
  - condition: [{type: slot, name: language, value: es}]
    text: "La basura se saca el lunes."
  utter_faq/only_in_spanish:
  - condition: [{type: slot, name: language, value: es}]
    text: "Solo en español."
  utter_goodbye:
  - text: "Bye."
"""
DOMAIN = """
slots:
  language: {type: text, mappings: [{type: custom}]}
responses:
  utter_greet:
  - text: "Hi!"
    buttons: [{title: "Report a problem", payload: "/report_problem"}]
  - condition: [{type: slot, name: language, value: es}]
    text: "¡Hola!"
    buttons: [{title: "Reportar un problema", payload: "/report_problem"}]
"""


def test_the_greeting_and_every_faq_answer_are_editable_in_the_languages_they_are_written_in(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "faq.yml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    answers = editable_answers(tmp_path)
    assert [(a.key, a.response, a.title) for a in answers] == [
        ("greet", "utter_greet", "Greeting"),
        ("faq.trash_day", "utter_faq/trash_day", "FAQ: Trash pickup day"),  # its title from the web catalog
        ("faq.only_in_spanish", "utter_faq/only_in_spanish", "FAQ: Only in spanish"),
    ]
    greeting, trash, spanish_only = answers
    assert greeting.languages() == ("en", "es") and spanish_only.languages() == ("es",)
    assert (trash.original("en"), trash.original("es"), trash.original("fr")) == (
        "Trash goes out Monday.",
        "La basura se saca el lunes.",
        None,
    )
    assert greeting.buttons("es") == ["Reportar un problema"] and trash.buttons("en") == []
    assert find_answer("faq.trash_day", tmp_path) == trash and find_response("utter_greet", tmp_path) == greeting
    assert find_answer("goodbye", tmp_path) is None and find_answer("utter_greet", tmp_path) is None


def test_the_projects_answers_are_the_greeting_and_the_city_topics() -> None:
    answers = editable_answers()
    assert answers[0].key == "greet" and len(answers) == 1 + 26  # city_jobs is answered from the postings
    assert all(answer.languages() == ("en", "es") for answer in answers)
