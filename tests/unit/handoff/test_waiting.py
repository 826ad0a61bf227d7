"""What a resident waiting for city staff is told, in their language: the queue, the wait, City Hall's hours.

The English sentences are checked in tests/unit/handoff/test_store.py; here the
Spanish ones, with a city file that has its own Spanish contacts and hours.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database
from bot.handoff import store
from bot.handoff.waiting import (
    REQUEST_HUMAN_INTENT,
    call_or_visit,
    duration_text,
    nobody_on_duty,
    opening_message,
    while_waiting,
)
from bot.i18n.messages import messages
from tests.support.bilingual_city import use_bilingual_city

SPANISH = messages("es")
ENGLISH = messages("en")


@pytest.fixture(autouse=True)
def bilingual(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The bilingual city file and a fresh database."""
    use_bilingual_city(monkeypatch, tmp_path)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


async def on_duty(*usernames: str) -> None:
    for username in usernames:
        await store.add_staff(username, "correct horse battery")
        await store.start_session(username)


def test_durations_read_as_each_language_says_them() -> None:
    minutes = (0.2, 1, 7, 22, 60, 95, 187)
    assert [duration_text(timedelta(minutes=m), SPANISH) for m in minutes] == [
        "un minuto",
        "un minuto",
        "7 minutos",
        "22 minutos",
        "1 hora",
        "1 hora y 35 minutos",
        "3 horas y 5 minutos",
    ]
    assert duration_text(timedelta(minutes=95), ENGLISH) == "1 hour 35 minutes"


async def test_nobody_on_duty_gives_city_halls_hours_in_spanish() -> None:
    first, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    assert await opening_message(first, SPANISH) == (
        "Por supuesto. En este momento no hay nadie del personal municipal en línea: el ayuntamiento abre "
        "de lunes a viernes, de 9 a. m. a 5 p. m. (cierra los fines de semana). "
        "Su conversación ya está en la fila del personal y una persona le contestará aquí mismo cuando regresen. "
        'Todo lo que escriba mientras tanto queda guardado para el personal; diga "cancelar" para salir de la fila. '
        "También puede llamar al 311, o (555) 010-0999 desde fuera de la ciudad, o ir al ayuntamiento, en 1 Main St. "
        "En caso de emergencia, llame al 911."
    )
    await store.open_handoff("rest-b", "rest", store.ASKED)
    third, _ = await store.open_handoff("rest-c", "rest", store.ASKED)
    assert "(2 personas antes que usted)" in await opening_message(third, SPANISH)
    english = await opening_message(third, ENGLISH)
    assert "City Hall is open Monday to Friday, 9 AM to 5 PM (closed weekends)" in english
    assert "(2 people ahead of you)" in english


async def test_with_staff_on_duty_the_place_in_the_queue_and_the_wait_in_spanish() -> None:
    await on_duty("dana")
    first, _ = await store.open_handoff("rest-a", "rest", store.ASKED)
    assert await opening_message(first, SPANISH) == (
        "Por supuesto. Le comunico con un miembro del personal municipal, que le contestará aquí mismo. "
        "Usted es la próxima persona en la fila y, con 1 miembro del personal de turno, la espera debería ser "
        "de aproximadamente 5 minutos. "
        'Todo lo que escriba mientras tanto queda guardado para el personal; diga "cancelar" para salir de la fila. '
        "Si prefiere llamar, el número es 311, o (555) 010-0999 desde fuera de la ciudad. "
        "En caso de emergencia, llame al 911."
    )
    second, _ = await store.open_handoff("rest-b", "rest", store.ASKED)
    await on_duty("eli")
    assert (
        "Hay 1 persona antes que usted y 2 miembros del personal de turno, así que la espera debería ser "
        "de aproximadamente 5 minutos." in await opening_message(second, SPANISH)
    )


async def test_asking_again_while_waiting_is_a_reminder_in_the_residents_language() -> None:
    await on_duty("dana")
    await store.open_handoff("rest-a", "rest", store.ASKED)
    answer = await while_waiting("rest-a", REQUEST_HUMAN_INTENT, SPANISH)
    (said,) = answer.said
    assert said["text"].startswith("Usted está en la fila para hablar con el personal municipal")
    assert "Por supuesto" not in said["text"] and not answer.resume


def test_city_halls_hours_never_end_a_spanish_sentence_twice() -> None:
    """Spanish hours end in "p. m.": a sentence must not add its own period after them."""
    hours = "de lunes a viernes, de 9 a. m. a 5 p. m."
    assert nobody_on_duty({"hours": hours}, SPANISH) == (
        "En este momento no hay nadie del personal municipal en línea (el ayuntamiento abre "
        "de lunes a viernes, de 9 a. m. a 5 p. m.)."
    )
    assert nobody_on_duty({}, SPANISH) == "En este momento no hay nadie del personal municipal en línea."
    assert call_or_visit("311", {}, SPANISH) == "También puede llamar al 311. En caso de emergencia, llame al 911."
