"""The bundled city file's translations cover everything a resident reads, and name only what exists.

A service, question or choice left untranslated would reach a Spanish-speaking
resident in English; a translation keyed by a code or value the city file does
not have is never shown (a typo, or a value renamed above and not below).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import pytest

from bot.catalog import DEFAULT_CITY_FILE, City, load_city
from bot.i18n.languages import language_code

# Jurisdiction texts that are the same in every language: codes, names of places, the web address.
SAME_IN_EVERY_LANGUAGE = {"id", "timezone", "website", "languages", "city_hall.address"}
SERVICE_TEXTS = ("name", "description", "group", "agency")


def bundled_city() -> City:
    return load_city(str(DEFAULT_CITY_FILE))


def translated_languages() -> List[str]:
    """Every language of the city file but the first, in which its facts are written."""
    codes = [language_code(str(name)) for name in bundled_city().info.get("languages") or []]
    return [code for code in codes[1:] if code]


def flattened(section: Mapping[str, Any], prefix: str = "") -> Iterator[Tuple[str, Any]]:
    """("city_hall.hours", "Monday to ...") for every leaf of a nested map."""
    for key, value in section.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flattened(value, f"{path}.")
        else:
            yield path, value


def label(choice: str) -> str:
    """What a resident types for a choice: its words before the bracket."""
    return " ".join(choice.split("(")[0].lower().split())


def translations(language: str) -> Dict[str, Any]:
    return bundled_city().translations.get(language) or {}


def test_the_city_file_has_translated_languages() -> None:
    assert translated_languages() == ["es"]


@pytest.mark.parametrize("language", translated_languages())
def test_every_jurisdiction_text_is_translated(language: str) -> None:
    facts = dict(flattened(bundled_city().info))
    texts = dict(flattened(translations(language).get("jurisdiction") or {}))
    readable = {path for path, value in facts.items() if path not in SAME_IN_EVERY_LANGUAGE}
    readable = {path for path in readable if re.search(r"[A-Za-z]", str(facts[path]))}
    assert sorted(readable - set(texts)) == [], f"untranslated in {language}"
    assert sorted(set(texts) - set(facts)) == [], f"translations of nothing in {language}"
    assert all(isinstance(text, str) and text.strip() for text in texts.values())


@pytest.mark.parametrize("language", translated_languages())
def test_every_service_question_and_choice_is_translated(language: str) -> None:
    services = translations(language).get("services") or {}
    missing = []
    for service in bundled_city().services:
        text = services.get(service.code) or {}
        missing += [f"{service.code}.{f}" for f in SERVICE_TEXTS if getattr(service, f) and not text.get(f)]
        attributes = text.get("attributes") or {}
        for attribute in service.attributes:
            where = f"{service.code}.{attribute.code}"
            question = attributes.get(attribute.code) or {}
            if not question.get("description"):
                missing.append(f"{where}.description")
            values = question.get("values") or {}
            missing += [f"{where}: {value!r}" for value in attribute.values if not values.get(value)]
    assert missing == [], f"untranslated in {language}"


@pytest.mark.parametrize("language", translated_languages())
def test_translations_name_only_codes_and_values_that_exist(language: str) -> None:
    city = bundled_city()
    unknown = []
    for code, text in (translations(language).get("services") or {}).items():
        service = city.service(code)
        if service is None:
            unknown.append(code)
            continue
        unknown += [f"{code}.{field}" for field in text if field not in (*SERVICE_TEXTS, "attributes")]
        attributes = {a.code: a for a in service.attributes}
        for attribute_code, question in (text.get("attributes") or {}).items():
            attribute = attributes.get(attribute_code)
            if attribute is None:
                unknown.append(f"{code}.{attribute_code}")
                continue
            # A key YAML read as a boolean (an unquoted yes/no) is not the back office's value.
            values = question.get("values") or {}
            unknown += [f"{code}.{attribute_code}: {key!r}" for key in values if key not in attribute.values]
    assert unknown == [], f"translations of nothing in {language}"


@pytest.mark.parametrize("language", translated_languages())
def test_each_choice_has_its_own_label(language: str) -> None:
    """Typed answers are matched against the label: two choices with one label, or one inside another, are ambiguous."""
    for code, text in (translations(language).get("services") or {}).items():
        for attribute_code, question in (text.get("attributes") or {}).items():
            labels = [label(str(name)) for name in (question.get("values") or {}).values()]
            for i, one in enumerate(labels):
                others = labels[:i] + labels[i + 1 :]
                clashes = [other for other in others if f" {one} " in f" {other} "]
                assert one and not clashes, f"{code}.{attribute_code}: {one!r} is also in {clashes}"
