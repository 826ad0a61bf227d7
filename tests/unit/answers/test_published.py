"""The published answers in a process's memory: the newest version of each, read again on a timer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.answers import store
from bot.answers.editable import find_answer
from bot.answers.published import PublishedAnswers, refresh_seconds
from bot.db.engine import reset_database

GREETING = "Welcome to Riverton 311! Ask me anything about city services."
SALUDO = "¡Bienvenido al 311 de Riverton! Pregúnteme lo que quiera sobre los servicios de la ciudad."


async def publish_greetings() -> None:
    greeting = find_answer("greet")
    assert greeting is not None
    await store.publish(greeting, "en", GREETING + " Really.", "sue", seen=0)
    await store.publish(greeting, "en", GREETING, "sue", seen=1)
    await store.publish(greeting, "es", SALUDO, "sue", seen=0)


async def test_a_refresh_reads_the_newest_version_of_each_answer_in_each_language() -> None:
    published = PublishedAnswers()
    assert await published.refresh() and published.texts == {} and published.responses == frozenset()
    await publish_greetings()
    assert published.text_for("utter_greet", "en") is None  # not read again yet
    assert await published.refresh()
    assert published.texts == {("utter_greet", "en"): GREETING, ("utter_greet", "es"): SALUDO}
    assert published.responses == {"utter_greet"}
    assert published.text_for("utter_greet", "es") == SALUDO and published.text_for("utter_goodbye", "en") is None


async def test_a_database_that_cannot_be_read_keeps_the_texts_read_last(
    fresh_database: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await publish_greetings()
    published = PublishedAnswers()
    assert await published.refresh()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh_database / 'missing' / 'nowhere.db'}")
    reset_database()
    assert not await published.refresh()
    assert published.text_for("utter_greet", "en") == GREETING
    assert "could not read the published answers: OperationalError" in caplog.text


async def test_keeping_fresh_reads_them_again_every_interval() -> None:
    published = PublishedAnswers()
    keeping = asyncio.create_task(published.keep_fresh(0.05))
    try:
        await publish_greetings()
        for _ in range(100):
            if published.texts:
                break
            await asyncio.sleep(0.05)
        assert published.text_for("utter_greet", "en") == GREETING
    finally:
        keeping.cancel()


def test_the_interval_is_a_setting_of_at_least_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    assert refresh_seconds() == 60.0
    monkeypatch.setenv("ANSWERS_REFRESH_SECONDS", "2.5")
    assert refresh_seconds() == 2.5
    monkeypatch.setenv("ANSWERS_REFRESH_SECONDS", "0")
    with pytest.raises(ValueError, match="ANSWERS_REFRESH_SECONDS must be at least 1"):
        refresh_seconds()
