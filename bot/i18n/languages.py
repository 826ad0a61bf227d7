"""The city's languages as two-letter codes, read from the city file's `languages:` names."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Optional, Tuple

from babel import Locale, UnknownLocaleError

from bot.catalog import load_city

DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def _names() -> dict:
    """Language names in English ("Spanish") -> code."""
    names = {}
    for code, name in Locale("en").languages.items():
        if "_" not in code:
            names[name.casefold()] = code
    return names


def language_code(value: object) -> Optional[str]:
    """The two-letter code of a tag or name ("es-MX", "es_US", "Spanish", "español"), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    by_name = _names().get(text.casefold()) or _native_names().get(_folded(text))
    if by_name:
        return by_name
    try:
        return Locale.parse(text.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None


def _folded(text: str) -> str:
    """Case and accents dropped, as residents type ("espanol", "ESPAÑOL")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _native_names() -> dict:
    """Each city language's name in every city language, accents dropped ("espanol", "ingles" -> "en")."""
    codes = city_languages()
    return {_folded(Locale(reader).get_language_name(code) or code): code for reader in codes for code in codes}


@lru_cache(maxsize=1)
def city_languages() -> Tuple[str, ...]:
    """The city's languages, first one first (its default); English when the city file names none."""
    codes = []
    for name in load_city().info.get("languages") or []:
        code = language_code(str(name))
        if code and code not in codes:
            codes.append(code)
    return tuple(codes) or (DEFAULT_LANGUAGE,)


def default_language() -> str:
    """The language of a resident who has not shown one: the city's first."""
    return city_languages()[0]


def supported(value: object) -> Optional[str]:
    """The city language a tag or name stands for, or None when the city does not offer it."""
    code = language_code(value)
    return code if code in city_languages() else None


def resident_language(value: object) -> str:
    """A city language for any stored or given value: unknown or unset falls back to the default."""
    return supported(value) or default_language()
