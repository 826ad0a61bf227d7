"""A page's language: `?lang=`, else the browser's Accept-Language matched to the city's languages, else the default."""

from __future__ import annotations

from typing import Optional

import pytest

from bot.web.language import accepted_languages, asked_language, browser_language, language_tag, requested_language


@pytest.mark.parametrize("value", ["es", "es-MX", "es_US", "zh-Hant-TW", "EN"])
def test_language_tags_are_accepted(value: str) -> None:
    assert language_tag(value) == value


@pytest.mark.parametrize(
    "value", [None, 42, ["es"], "", "es-", "-es", "e s", "es;q=1", "<script>", "español", "x" * 9, "es-" + "-a" * 5]
)
def test_anything_else_is_not_a_language_tag(value: object) -> None:
    assert language_tag(value) is None


@pytest.mark.parametrize(
    "value, language",
    [("es", "es"), ("es-MX", "es"), ("ES", "es"), ("en", "en"), ("fr", None), ("Spanish", "es"), ("", None)],
)
def test_lang_names_a_city_language(value: str, language: Optional[str]) -> None:
    assert asked_language(value) == language


def test_accept_language_is_read_in_order_of_preference() -> None:
    header = "fr;q=0.5, es-MX, en;q=0.8, *;q=0.1, de;q=0, it;q=nonsense, pt-BR"
    assert accepted_languages(header) == ["es-MX", "pt-BR", "en", "fr"]
    assert accepted_languages(None) == [] and accepted_languages("") == []


@pytest.mark.parametrize(
    "header, language",
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR, es;q=0.5", "es"),  # French is not a city language: the next one the browser takes
        ("en;q=0.2, es;q=0.9", "es"),
        ("es_US", "es"),
        ("fr, de", None),
        ("", None),
        (None, None),
    ],
)
def test_the_browser_language_is_negotiated_against_the_citys(header: Optional[str], language: Optional[str]) -> None:
    assert browser_language(header) == language


def test_lang_wins_over_the_browser_and_a_language_the_city_lacks_does_not() -> None:
    assert requested_language("es", "en-US") == "es"
    assert requested_language("en", "es-MX") == "en"
    assert requested_language("fr", "es-MX") == "es"
    assert requested_language("<b>", "es-MX") == "es"
    assert requested_language(None, "de") is None
