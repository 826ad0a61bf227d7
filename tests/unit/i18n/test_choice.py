"""The language a resident is answered in: chosen, remembered, hinted or detected, and never flipped by little."""

from __future__ import annotations

import pytest

from bot.i18n.choice import Turn, decide


@pytest.mark.parametrize(
    "text, language",
    [
        ("hello", "en"),
        ("hi", "en"),
        ("thanks", "en"),
        ("there is a pothole on my street", "en"),
        ("hola", "es"),
        ("buenas tardes", "es"),
        ("gracias", "es"),
        ("q hora abren", "es"),
        ("huele mucho a gas en la cocina", "es"),
        ("se está incendiando el garaje de al lado", "es"),
        ("quiero reportar un hoyo en la calle", "es"),
        ("¿a qué hora cierran las oficinas de la ciudad?", "es"),
        ("1", "en"),
        ("12 Elm St", "en"),
    ],
)
def test_a_first_message_sets_the_language(text: str, language: str) -> None:
    assert decide(Turn(text)) == language


@pytest.mark.parametrize("text", ["ok", "1", "sí", "no", "12 Elm St", "hello", "gracias", "Main St and 5th Ave"])
def test_short_or_ambiguous_messages_never_flip_a_remembered_language(text: str) -> None:
    assert decide(Turn(text, remembered="es")) == "es"
    assert decide(Turn(text, remembered="en")) == "en"


def test_a_long_clear_message_in_the_other_language_switches() -> None:
    assert decide(Turn("hay un poste de luz tirado en la banqueta", remembered="en")) == "es"
    assert decide(Turn("there is a street light down on the sidewalk", remembered="es")) == "en"


def test_an_explicit_choice_always_wins() -> None:
    assert decide(Turn("English please", remembered="es", chosen="en")) == "en"
    assert decide(Turn("/set_language", remembered="en", chosen="es")) == "es"
    assert decide(Turn("klingon", remembered="es", chosen="tlh")) == "es"  # not a city language: ignored


def test_answers_to_addresses_contacts_and_numbers_never_switch() -> None:
    for slot in ("location", "contact", "request_id"):
        assert decide(Turn("calle principal y avenida quinta", remembered="en", requested_slot=slot)) == "en"


def test_the_channel_hint_decides_a_short_first_message() -> None:
    assert decide(Turn("ok", hint="es-MX")) == "es"
    assert decide(Turn("hello", hint="es")) == "es"
    assert decide(Turn("hola", hint="fr")) == "es"  # a hint the city does not offer is no hint
    assert decide(Turn("there is a pothole on my street", hint="es")) == "en"


def test_a_buttons_intent_payload_never_switches() -> None:
    for payload in ("/affirm", "/report_pothole", "/check_status", '/report_problem{"zone": "north side of town"}'):
        assert decide(Turn(payload, remembered="es")) == "es"
    assert decide(Turn("/report_pothole")) == "en"  # no language yet: the default
