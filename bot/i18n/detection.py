"""Which of the city's languages one message is written in, offline (lingua, models inside its wheel).

The detector knows only the city's languages, so "bache" is judged English or
Spanish, never Basque. Its models load once per process, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from bot.i18n.languages import city_languages


@dataclass(frozen=True)
class Detection:
    """The likeliest language of a text and lingua's confidence in it (0 to 1)."""

    language: str
    confidence: float


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in city_languages()]
    if len(languages) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def detect(text: str) -> Optional[Detection]:
    """The likeliest city language of `text`, or None when the city has one language or the text has no letters."""
    detector = _detector()
    if detector is None or not any(ch.isalpha() for ch in text):
        return None
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return None
    best = values[0]
    return Detection(best.language.iso_code_639_1.name.lower(), float(best.value))


def warm_up() -> None:
    """Load the models now (a server does it before its first resident waits for it)."""
    _detector()
