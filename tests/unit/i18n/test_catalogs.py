"""Every code-side text exists in every city language with the same placeholders, and the catalogs parse."""

from __future__ import annotations

import string
from typing import Set, Tuple, Union

import pytest

from bot.i18n.languages import city_languages, default_language
from bot.i18n.messages import LOCALES, catalog

Entry = Union[str, Tuple[str, ...]]


def placeholders(entry: Entry) -> Set[str]:
    forms = (entry,) if isinstance(entry, str) else entry
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def test_the_city_has_its_languages_catalogs() -> None:
    assert city_languages() == ("en", "es")
    for language in city_languages():
        assert sorted(p.name for p in (LOCALES / language / "LC_MESSAGES").glob("*.po")), language


@pytest.mark.parametrize("language", [code for code in city_languages() if code != default_language()])
def test_every_key_is_translated_with_the_same_placeholders(language: str) -> None:
    default = catalog(default_language())
    other = catalog(language)
    assert sorted(set(default.texts) - set(other.texts)) == [], f"untranslated in {language}"
    assert sorted(set(other.texts) - set(default.texts)) == [], f"only in {language}"
    for key, entry in default.texts.items():
        translated = other.texts[key]
        assert isinstance(translated, str) == isinstance(entry, str), f"{key}: plural in one language only"
        assert placeholders(translated) == placeholders(entry), key


def test_each_area_file_exists_in_every_language() -> None:
    areas = {
        language: sorted(p.name for p in (LOCALES / language / "LC_MESSAGES").glob("*.po"))
        for language in city_languages()
    }
    assert len({tuple(names) for names in areas.values()}) == 1, areas
