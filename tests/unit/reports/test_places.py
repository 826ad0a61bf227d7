"""An answer to "Where is it?" names a place (address, intersection, named street, landmark) or none."""

from __future__ import annotations

import pytest

from bot.reports.places import ADDRESS, INTERSECTION, LANDMARK, STREET, read_place


@pytest.mark.parametrize(
    "text, kind, search",
    [
        ("12 Elm Street", ADDRESS, "12 Elm Street"),
        ("123 N Maple Dr apt 4", ADDRESS, "123 N Maple Dr"),
        ("in the alley behind 45 birch rd", ADDRESS, "45 birch rd"),
        ("near 200 main", ADDRESS, "near 200 main"),  # no street type: usaddress still reads it
        ("12 calle Elm", ADDRESS, "12 calle Elm"),
        ("Main St and 5th Ave", ADDRESS, "Main St and 5th Ave"),
        ("Main St y 5th Ave", ADDRESS, "Main St y 5th Ave"),
        ("corner of 5th ave and main st", ADDRESS, "5th ave and main st"),
        ("the bus stop on Oak Avenue", STREET, "Oak Avenue"),
        ("Main Street", STREET, "Main Street"),
        ("sobre la avenida Juárez", STREET, "avenida Juárez"),
        ("calle Elm", STREET, "calle Elm"),
    ],
)
def test_addresses_intersections_and_named_streets_are_places(text: str, kind: str, search: str) -> None:
    place = read_place(text)
    assert place is not None and place.kind == kind and place.search == search
    assert place.location == text


def test_an_intersection_usaddress_reads_without_street_types_in_the_pattern() -> None:
    place = read_place("Oak Ave & 3rd St")
    assert place is not None and place.kind in (ADDRESS, INTERSECTION)


@pytest.mark.parametrize(
    "text, landmark",
    [
        ("in front of the library", "Main Library, 50 Elm Street"),
        ("by city hall", "City Hall, 200 Main Street"),
        ("frente a la biblioteca", "Main Library, 50 Elm Street"),
        ("afuera del ayuntamiento", "City Hall, 200 Main Street"),
    ],
)
def test_the_city_files_landmarks_in_either_language(text: str, landmark: str) -> None:
    place = read_place(text)
    assert place is not None and place.kind == LANDMARK
    assert place.location == f"{text} ({landmark})"
    assert place.search == landmark.split(", ")[1]  # duplicates are looked for at the landmark's address


@pytest.mark.parametrize(
    "text",
    [
        "street or pavement",
        "public property",
        "my street",
        "the big hole in the road",
        "outside my house",
        "furniture or mattress",
        "en la calle",
        "skip",
        "?",
        "",
        "one two three",
    ],
)
def test_what_names_no_place_is_not_a_location(text: str) -> None:
    assert read_place(text) is None
