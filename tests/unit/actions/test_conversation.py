"""Misunderstandings and asking for a person, in the resident's language (the `language` slot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleMisunderstanding, ActionRequestHuman, person_path
from bot.db.engine import reset_database
from bot.handoff import store
from bot.i18n.messages import messages
from tests.support.bilingual_city import use_bilingual_city


@pytest.fixture(autouse=True)
def bilingual(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The bilingual city file and a fresh database."""
    use_bilingual_city(monkeypatch, tmp_path)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


def tracker(intents: List[str], language: Optional[str]) -> Tracker:
    events = [{"event": "user", "text": "x", "parse_data": {"intent": {"name": name}}} for name in intents]
    latest = {"text": "x", "intent": {"name": intents[-1], "confidence": 0.9}, "entities": []}
    return Tracker("rest-1", {"language": language}, latest, events, False, None, {}, "action_listen")


async def said(action: Any, tr: Tracker) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tr, {})
    return dispatcher.messages


def test_the_way_to_a_person_uses_the_city_files_spanish_contacts() -> None:
    assert person_path(messages("es")) == (
        "Para hablar con una persona, llame al 311, o (555) 010-0999 desde fuera de la ciudad. "
        "También puede ir al ayuntamiento de lunes a viernes, de 9 a. m. a 5 p. m., en 1 Main St."
    )
    assert person_path(messages("en")) == (
        "To talk to a person, call 311, or (555) 010-0999 from outside the city. "
        "You can also visit City Hall at 1 Main St, Monday to Friday, 9 AM to 5 PM."
    )


async def test_misunderstandings_are_explained_in_the_residents_language() -> None:
    (once,) = await said(ActionHandleMisunderstanding(), tracker(["greet", "out_of_scope"], "es"))
    assert once["text"].startswith("Lo siento, no puedo ayudarle con eso. Puedo contestar preguntas")
    assert not once["buttons"]
    (twice,) = await said(ActionHandleMisunderstanding(), tracker(["out_of_scope", "nlu_fallback"], "es"))
    assert twice["text"].startswith("Lo siento, todavía no puedo ayudarle con eso. Para hablar con una persona")
    assert [(b["title"], b["payload"]) for b in twice["buttons"]] == [
        ("Hablar con una persona", "/request_human"),
        ("¿Qué puede hacer?", "/help"),
    ]
    (english,) = await said(ActionHandleMisunderstanding(), tracker(["out_of_scope", "nlu_fallback"], None))
    assert english["text"].startswith("Sorry, I'm still not able to help with that. To talk to a person, call 311")
    assert [b["title"] for b in english["buttons"]] == ["Talk to a person", "What can you do?"]


async def test_asking_for_a_person_opens_the_handoff_in_spanish() -> None:
    (opening,) = await said(ActionRequestHuman(), tracker(["request_human"], "es"))
    assert opening["text"].startswith("Por supuesto. En este momento no hay nadie del personal municipal en línea")


async def test_without_a_database_the_city_contacts_are_given_in_spanish(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(store, "open_handoff", broken)
    (fallback,) = await said(ActionRequestHuman(), tracker(["request_human"], "es"))
    assert fallback["text"] == (
        "Por supuesto. Para hablar con una persona, llame al 311, o (555) 010-0999 desde fuera de la ciudad. "
        "También puede ir al ayuntamiento de lunes a viernes, de 9 a. m. a 5 p. m., en 1 Main St. "
        "En caso de emergencia, llame al 911."
    )
