"""Questions in the resident's language, answers read in any language, filed with the back office's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.messages import messages
from bot.open311.models import ServiceAttribute
from bot.reports.questions import SKIP_PAYLOAD, Wording, check_answer, describe_value, pick, question_for
from tests.support.reports import use_spanish_riverton

SIZES = ["small (smaller than a dinner plate)", "medium (up to a car tire)", "large (bigger than a car tire)"]
SIZE = ServiceAttribute(
    code="size", datatype="singlevaluelist", required=True, description="How big is it?", values=[(v, v) for v in SIZES]
)
LANE = ServiceAttribute(
    code="lane",
    datatype="singlevaluelist",
    required=False,
    description="Where on the road?",
    values=[(v, v) for v in ("traffic lane", "bike lane", "crosswalk", "shoulder")],
)
DAYS = ServiceAttribute(
    code="days_parked", datatype="number", required=True, description="About how many days has it been there?"
)
MULTI = ServiceAttribute(
    code="what",
    datatype="multivaluelist",
    required=True,
    description="What is it?",
    values=[("a", "glass"), ("b", "paper")],
)
SPANISH_POTHOLE = Wording(messages("es"), "POTHOLE")
ENGLISH_POTHOLE = Wording(messages("en"), "POTHOLE")


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_spanish_riverton(monkeypatch, tmp_path)


def test_a_spanish_question_its_choices_and_its_skip_button():
    question = question_for(LANE, SPANISH_POTHOLE)
    assert question.text == '¿En qué parte de la calle está? (Opcional: diga "omitir" si no lo sabe.)'
    titles = [b["title"] for b in question.buttons]
    assert titles == ["carril de autos", "ciclovía", "cruce peatonal", "shoulder", "Omitir"]  # untranslated: as filed
    assert question.buttons[-1]["payload"] == SKIP_PAYLOAD


def test_the_english_question_is_the_back_offices():
    question = question_for(LANE, ENGLISH_POTHOLE)
    assert question.text == 'Where on the road? (Optional: say "skip" if you don\'t know.)'
    assert [b["title"] for b in question.buttons][-1] == "Skip"


@pytest.mark.parametrize("said", ["grande", "large", "Grande!", "es enorme", "3", "big"])
def test_spanish_and_back_office_words_pick_the_back_office_key(said):
    assert pick(SIZE, said, SPANISH_POTHOLE) == SIZES[2]


@pytest.mark.parametrize("said, key", [("grande", SIZES[2]), ("pequeño", SIZES[0]), ("sí, mediano", SIZES[1])])
def test_an_english_reader_answering_in_spanish_is_understood(said, key):
    assert pick(SIZE, said, ENGLISH_POTHOLE) == key


def test_a_spanish_answer_is_filed_as_the_back_offices_key():
    assert check_answer(SIZE, "grande", SPANISH_POTHOLE).value == SIZES[2]
    assert check_answer(LANE, "en la ciclovía", SPANISH_POTHOLE).value == "bike lane"
    assert check_answer(LANE, "omitir", SPANISH_POTHOLE).skipped


def test_a_spanish_retry_lists_the_translated_choices():
    error = check_answer(SIZE, "morado", SPANISH_POTHOLE).error
    assert error is not None and error.startswith("Disculpe, no le entendí.")
    assert "3. grande (más grande que una llanta de carro)" in error


@pytest.mark.parametrize("said, days", [("dos semanas", "14"), ("un mes", "30"), ("desde ayer", "1"), ("5 días", "5")])
def test_spanish_durations(said, days):
    assert check_answer(DAYS, said, Wording(messages("es"), "ABANDONED_VEHICLE")).value == days


def test_a_number_question_without_a_number_asks_again_in_spanish():
    assert check_answer(DAYS, "no me acuerdo", Wording(messages("es"), "ABANDONED_VEHICLE")).error == (
        "Por favor, responda con un número (por ejemplo, 3)."
    )


def test_several_choices_joined_in_either_language():
    assert check_answer(MULTI, "glass y paper", Wording(messages("es"), "OTHER")).value == ["a", "b"]
    assert check_answer(MULTI, "glass and paper", ENGLISH_POTHOLE).value == ["a", "b"]
    assert question_for(MULTI, Wording(messages("es"), "OTHER")).text == (
        "What is it? Puede elegir más de una opción (sepárelas con comas)."
    )


def test_a_stored_key_reads_back_translated():
    assert describe_value(SIZE, SIZES[2], SPANISH_POTHOLE) == "grande (más grande que una llanta de carro)"
    assert describe_value(SIZE, SIZES[2], ENGLISH_POTHOLE) == SIZES[2]
