"""The published_answers patch: Rasa answers with the texts staff published, and with its own otherwise.

The generator is Rasa's, with the project's own responses (domain.yml and the
FAQ answers); the published texts are set in the process's memory as a refresh
would set them (bot/answers/published.py has the tests of reading them).
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from sanic import Sanic

from bot.answers import store
from bot.answers.editable import find_answer
from bot.answers.published import PUBLISHED
from bot.answers.responses import training_responses
from bot.db.engine import reset_database
from bot.rasa_ext.patches import patched, published_answers

GREETING = "Welcome! You read {language}."
TRASH_ES = "Texto publicado sobre la basura."
CASES: List[Tuple[str, Dict[str, Any], str]] = [
    ("utter_greet", {"language": "en"}, "rest"),
    ("utter_greet", {"language": "es"}, "rest"),
    ("utter_greet", {"language": None}, "telegram"),
    ("utter_faq/trash_day", {"language": "es"}, "twilio"),
    ("utter_faq/trash_day", {"language": "en"}, "rest"),
    ("utter_goodbye", {"language": "es"}, "rest"),
    ("utter_no_such_response", {}, "rest"),
]


@pytest.fixture
def generator() -> TemplatedNaturalLanguageGenerator:
    return TemplatedNaturalLanguageGenerator(copy.deepcopy(training_responses()))


@pytest.fixture
def published() -> Iterator[None]:
    PUBLISHED.replace({("utter_greet", "en"): GREETING, ("utter_faq/trash_day", "es"): TRASH_ES})
    yield
    PUBLISHED.replace({})


def answers(generator: TemplatedNaturalLanguageGenerator) -> List[Any]:
    return [generator.generate_from_slots(name, slots, channel) for name, slots, channel in CASES]


def test_with_nothing_published_the_answers_are_rasas_own(generator: TemplatedNaturalLanguageGenerator) -> None:
    rasas = answers(generator)
    with patched(published_answers.PATCH):
        assert answers(generator) == rasas
    assert rasas[0]["text"].startswith("Hi! I'm the City of Riverton's 311 assistant")


def test_a_published_text_replaces_only_the_text_of_its_language(
    generator: TemplatedNaturalLanguageGenerator, published: None
) -> None:
    rasas = answers(generator)
    with patched(published_answers.PATCH):
        ours = answers(generator)
    english, spanish, unset, trash_es, trash_en, goodbye, missing = zip(rasas, ours, strict=True)

    assert english[1]["text"] == "Welcome! You read en."  # the slot filled in as Rasa does
    assert english[1]["buttons"] == english[0]["buttons"] and len(english[1]["buttons"]) == 4
    assert english[1]["buttons"][3]["payload"] == '/set_language{"language": "es"}'
    assert unset[1]["text"] == "Welcome! You read None."  # no language yet: the default's
    assert spanish[1] == spanish[0] and spanish[1]["text"].startswith("¡Hola!")  # nothing published in Spanish
    assert trash_es[1] == {**trash_es[0], "text": TRASH_ES}
    assert trash_en[1] == trash_en[0] and goodbye[1] == goodbye[0] and missing == (None, None)


def test_a_variation_for_a_channel_or_another_condition_keeps_its_text(published: None) -> None:
    generator = TemplatedNaturalLanguageGenerator(
        {
            "utter_greet": [
                {"text": "Hi"},
                {"text": "Hi on SMS", "channel": "twilio"},
                {"text": "Hi, reporter", "condition": [{"type": "slot", "name": "role", "value": "reporter"}]},
            ]
        }
    )
    with patched(published_answers.PATCH):
        assert generator.generate_from_slots("utter_greet", {}, "rest")["text"].startswith("Welcome!")
        assert generator.generate_from_slots("utter_greet", {}, "twilio")["text"] == "Hi on SMS"
        assert generator.generate_from_slots("utter_greet", {"role": "reporter"}, "rest")["text"] == "Hi, reporter"


async def test_the_server_reads_them_when_it_starts_and_then_keeps_them_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ANSWERS_REFRESH_SECONDS", "1")
    reset_database()
    greeting = find_answer("greet")
    assert greeting is not None
    await store.publish(greeting, "en", "Welcome to Riverton 311!", "sue", seen=0)
    app = Sanic("published_answers_test")
    app.is_running = True  # as during `app.run`: the listener may start tasks
    try:
        with patched(published_answers.PATCH):
            import rasa.core.run

            await rasa.core.run.load_agent_on_start(None, None, None, app, asyncio.get_running_loop())
            assert PUBLISHED.text_for("utter_greet", "en") == "Welcome to Riverton 311!"
            await store.publish(greeting, "en", "Welcome back to Riverton 311!", "sue", seen=1)
            for _ in range(40):
                if PUBLISHED.text_for("utter_greet", "en") != "Welcome to Riverton 311!":
                    break
                await asyncio.sleep(0.1)
            assert PUBLISHED.text_for("utter_greet", "en") == "Welcome back to Riverton 311!"
            await app.cancel_task(published_answers.TASK_NAME)
    finally:
        app.is_running = False
        PUBLISHED.replace({})
        reset_database()
