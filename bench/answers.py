"""The per-message cost of answers staff edit: filling a response with and without published texts.

`python -m bench.answers` times Rasa's `generate_from_slots` (what every bot
message of a turn goes through) for a Spanish FAQ answer and for the greeting
with its buttons: Rasa's own (with the server's other patches), then with the
published_answers patch when nothing is published, when other answers are,
and when this very answer is. The best of several repeats, in microseconds a
call; a measurement, not a test.
"""

from __future__ import annotations

import copy
import timeit
from typing import Any, Callable, Dict, Tuple

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot.answers.editable import editable_answers
from bot.answers.published import PUBLISHED
from bot.answers.responses import training_responses
from bot.rasa_ext.patches import patched, published_answers, response_variations

CALLS = 10_000
REPEATS = 15
CASES: Tuple[Tuple[str, Dict[str, Any]], ...] = (
    ("utter_faq/trash_day", {"language": "es", "requested_slot": None}),
    ("utter_greet", {"language": "en", "requested_slot": None}),
)


def microseconds(call: Callable[[], Any]) -> float:
    return timeit.timeit(call, number=CALLS) / CALLS * 1e6


def others_published(but: str) -> Dict[Tuple[str, str], str]:
    """Every other editable answer published in both languages: the most a city would publish."""
    return {
        (answer.response, language): f"Published text of {answer.response}."
        for answer in editable_answers()
        if answer.response != but
        for language in ("en", "es")
    }


def main() -> None:
    with patched(response_variations.PATCH):  # as the Rasa server runs: the variation picked with `random`
        compare()


def compare() -> None:
    generator = TemplatedNaturalLanguageGenerator(copy.deepcopy(training_responses()))
    for name, slots in CASES:

        def fill(name: str = name, slots: Dict[str, Any] = slots) -> Any:
            return generator.generate_from_slots(name, slots, "rest")

        others = others_published(name)
        setups: Dict[str, Dict[Tuple[str, str], str]] = {
            "patched, nothing published": {},
            f"patched, {len(others)} other texts published": others,
            "patched, this answer published": {(name, slots["language"]): "A published text."},
        }
        best: Dict[str, float] = {}
        for _ in range(REPEATS):  # the cases in turn, so a busy moment of the machine hits them alike
            best["Rasa's own"] = min(best.get("Rasa's own", float("inf")), microseconds(fill))
            with patched(published_answers.PATCH):
                for case, texts in setups.items():
                    PUBLISHED.replace(texts)
                    best[case] = min(best.get(case, float("inf")), microseconds(fill))
                PUBLISHED.replace({})
        rasas = best["Rasa's own"]
        for case, spent in best.items():
            print(f"{name:22} {case:38} {spent:7.2f} µs  ({spent - rasas:+.2f} µs)")


if __name__ == "__main__":
    main()
