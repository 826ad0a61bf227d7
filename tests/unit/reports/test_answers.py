"""Free-text answers to report questions: choices, numbers, addresses, contacts."""

import pytest

from bot.reports.answers import (
    find_address,
    is_skip,
    match_choice,
    parse_contact,
    parse_days,
    parse_number,
    phone_e164,
)

SIZES = ["small (smaller than a dinner plate)", "medium (up to a car tire)", "large (bigger than a car tire)"]
LANES = ["traffic lane", "bike lane", "crosswalk", "shoulder"]
YES_NO = ["yes", "no"]


@pytest.mark.parametrize(
    "said, expected",
    [
        ("large (bigger than a car tire)", SIZES[2]),
        ("Large", SIZES[2]),
        ("3", SIZES[2]),
        ("its a big one", SIZES[2]),
        ("HUGE!!", SIZES[2]),
        ("smal", SIZES[0]),
        ("medium i guess", SIZES[1]),
    ],
)
def test_size_answers(said, expected):
    assert match_choice(said, SIZES) == expected


@pytest.mark.parametrize(
    "said, expected",
    [
        ("in the bike lane", "bike lane"),
        ("crosswalk", "crosswalk"),
        ("2", "bike lane"),
        ("shoulder of the road", "shoulder"),
    ],
)
def test_lane_answers(said, expected):
    assert match_choice(said, LANES) == expected


@pytest.mark.parametrize("said, expected", [("yep", "yes"), ("Yes it was", "yes"), ("nope", "no"), ("n", "no")])
def test_yes_no_answers(said, expected):
    assert match_choice(said, YES_NO) == expected


@pytest.mark.parametrize("said", ["", "purple", "9", "lane", "the traffic lane and the bike lane"])
def test_unclear_or_ambiguous_answers_match_nothing(said):
    assert match_choice(said, LANES) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no, it's 12 Elm Street", "12 Elm Street"),
        ("there's a hole outside 450 N Main St.", "450 N Main St"),
        ("Corner of Oak Avenue and 5th Street", "Oak Avenue and 5th Street"),
        ("by the park", None),
    ],
)
def test_addresses_found_in_sentences(text, expected):
    assert find_address(text) == expected


@pytest.mark.parametrize("said", ["skip", "Skip it", "no thanks", "anonymous", "I don't know"])
def test_skips(said):
    assert is_skip(said)


@pytest.mark.parametrize(
    "text, days", [("3", 3), ("about 5 days", 5), ("two weeks", 14), ("a month", 30), ("since yesterday", 1)]
)
def test_durations(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize(
    "phone, expected",
    [
        ("555-010-2233", "+15550102233"),
        ("(555) 010-2233", "+15550102233"),
        ("1 555 010 2233", "+15550102233"),
        ("+1 (555) 010-2233", "+15550102233"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+52 55 1234 5678", "+525512345678"),
        ("010-2233", None),  # a local number: which area code is not guessed
        ("055-010-2233", None),  # no North American area code starts with 0 or 1
        ("555 010 2233 4", None),  # an extension, or a typo
        ("+12 34", None),
    ],
)
def test_a_phone_number_as_twilio_writes_it(phone, expected):
    assert phone_e164(phone) == expected


def test_contact_with_name_email_and_phone():
    details = parse_contact("I'm Jane Doe, jane.doe@example.org, 555-010-2233")
    assert details.email == "jane.doe@example.org"
    assert details.phone == "555-010-2233"
    assert (details.first_name, details.last_name) == ("Jane", "Doe")
    assert details.as_open311() == {
        "email": "jane.doe@example.org",
        "phone": "555-010-2233",
        "first_name": "Jane",
        "last_name": "Doe",
    }


def test_contact_without_details_is_empty():
    assert parse_contact("whatever works").is_empty()
    assert parse_contact("skip").is_empty()


# --- Spanish: the words of every city language are read together ---------------------


@pytest.mark.parametrize(
    "said, expected", [("sí", "yes"), ("Si, claro", "yes"), ("así es", "yes"), ("nel", "no"), ("no", "no")]
)
def test_spanish_yes_no_answers(said, expected):
    assert match_choice(said, YES_NO) == expected


@pytest.mark.parametrize("said, expected", [("grande", SIZES[2]), ("es enorme", SIZES[2]), ("chiquito", SIZES[0])])
def test_spanish_size_words_pick_the_back_offices_choice(said, expected):
    assert match_choice(said, SIZES) == expected


@pytest.mark.parametrize("said", ["omitir", "Omitir, gracias", "saltar", "no sé", "anónimo", "prefiero no"])
def test_spanish_skips(said):
    assert is_skip(said)


@pytest.mark.parametrize(
    "text, days",
    [
        ("dos semanas", 14),
        ("un mes", 30),
        ("una semana", 7),
        ("desde ayer", 1),
        ("tres días", 3),
        ("un par de semanas", 14),
    ],
)
def test_spanish_durations(text, days):
    assert parse_days(text) == days


def test_spanish_numbers():
    assert parse_number("siete") == 7 and parse_number("veinte") == 20 and parse_number("treinta") == 30


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no, es en 12 Elm St", "12 Elm St"),
        ("en la esquina de Oak Avenue y 5th Street", "Oak Avenue y 5th Street"),
        ("El Camino Road and Main Street", "El Camino Road and Main Street"),  # "el" starts street names
    ],
)
def test_spanish_sentences_with_addresses(text, expected):
    assert find_address(text) == expected


def test_a_spanish_contact_with_an_accented_name():
    details = parse_contact("me llamo José Pérez, jose@example.org")
    assert (details.first_name, details.last_name, details.email) == ("José", "Pérez", "jose@example.org")
    assert parse_contact("omitir").is_empty()
    assert parse_contact("nada").is_empty()


def test_a_word_of_only_one_choice_picks_it():
    choices = ["public property", "private property", "bridge or overpass", "traffic sign"]
    assert match_choice("bridge", choices) == "bridge or overpass"
    assert match_choice("property", choices) is None  # two choices say it
    spanish = ["propiedad pública", "propiedad privada", "puente o paso elevado", "señal de tránsito"]
    assert match_choice("puente", spanish) == "puente o paso elevado"
