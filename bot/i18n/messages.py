"""Every text the code sends a resident, by key, in each city language, and dates written per language.

The texts live in gettext catalogs, one `.po` file per area and language
(`locales/<lang>/LC_MESSAGES/<area>.po`), read with Babel. A message id is a
key ("report.filed"), not an English sentence, so English is a translation like
the others and a text changes without touching code. Placeholders are Python's
`{name}`. A text that depends on a count is a gettext plural entry
(`msgid_plural`, one `msgstr[n]` per form of the language's `Plural-Forms`),
read with `Messages.plural`. A key missing in a language falls back to the city's default
language; tests/unit/i18n checks that every key exists in every language with
the same placeholders.
"""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.i18n.languages import city_languages, default_language, resident_language

LOCALES = Path(__file__).parent / "locales"


class MissingText(KeyError):
    """A key no catalog has: a bug in the code, not a missing translation."""


Text = Union[str, Tuple[str, ...]]


@dataclass(frozen=True)
class Catalog:
    """One language's texts (key -> text, or the plural forms) and how it picks a plural form."""

    texts: Mapping[str, Text]
    plural_index: Callable[[int], int]

    def get(self, key: str) -> Optional[Text]:
        return self.texts.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.texts


@lru_cache(maxsize=8)
def catalog(language: str) -> Catalog:
    """All of one language's texts (every area's .po file); translated entries only."""
    texts: Dict[str, Text] = {}
    plural_expr = "(n != 1)"
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            po = read_po(handle, locale=language)
        plural_expr = po.plural_expr or plural_expr
        for message in po:
            if message.fuzzy or not message.id:
                continue
            if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
                texts[message.id] = message.string
            elif isinstance(message.id, tuple) and isinstance(message.string, tuple) and all(message.string):
                texts[str(message.id[0])] = tuple(str(form) for form in message.string)
    return Catalog(texts, gettext.c2py(plural_expr))


def clear_catalogs() -> None:
    """Forget loaded catalogs (tests that write .po files)."""
    catalog.cache_clear()


@dataclass(frozen=True)
class Messages:
    """One language's texts and formats: what a resident in that language reads."""

    language: str

    def text(self, key: str, **values: Any) -> str:
        """The text for `key` with its `{placeholders}` filled, in this language or else the default."""
        template = self._entry(key)
        if not isinstance(template, str):
            raise MissingText(f"{key} is a plural text: use Messages.plural")
        return template.format(**values) if values else template

    def plural(self, key: str, count: int, **values: Any) -> str:
        """The form of plural text `key` for `count` ("1 person" / "2 people"), `{count}` filled in too."""
        forms = self._entry(key)
        if isinstance(forms, str):
            raise MissingText(f"{key} is not a plural text: use Messages.text")
        language = self.language if isinstance(catalog(self.language).get(key), tuple) else default_language()
        index = min(catalog(language).plural_index(count), len(forms) - 1)
        return forms[index].format(count=count, **values)

    def _entry(self, key: str) -> Text:
        entry = catalog(self.language).get(key)
        if entry is None:
            entry = catalog(default_language()).get(key)
        if entry is None:
            raise MissingText(key)
        return entry

    def has(self, key: str) -> bool:
        """Whether this language itself has the key (no fallback)."""
        return key in catalog(self.language)

    @property
    def locale(self) -> Locale:
        """Babel's locale for this language (its US variant for dates, as US residents read them)."""
        return Locale.parse(f"{self.language}_US") if self.language in ("en", "es") else Locale.parse(self.language)

    def day(self, day: dt.date) -> str:
        """A date as people say it: "Tuesday, December 8" / "martes, 8 de diciembre"."""
        return format_date(day, format=self.text("common.day_pattern"), locale=self.locale)

    def date(self, day: dt.date) -> str:
        """A date with its year: "December 8, 2026" / "8 de diciembre de 2026"."""
        return format_date(day, format="long", locale=self.locale)

    def moment(self, when: dt.datetime, timezone: Optional[str] = None) -> str:
        """A day and time, in `timezone` when given: "Tuesday, December 8 at 3:05 PM"."""
        zone = get_timezone(timezone) if timezone else None
        day = format_datetime(when, format=self.text("common.day_pattern"), tzinfo=zone, locale=self.locale)
        time = format_time(when, format="short", tzinfo=zone, locale=self.locale)
        return self.text("common.day_at_time", day=day, time=time)

    def number(self, value: float) -> str:
        """A number with this language's separators."""
        return format_decimal(value, locale=self.locale)


@lru_cache(maxsize=8)
def messages(language: Optional[str] = None) -> Messages:
    """The texts of a resident's language; an unknown or unset language gets the city's default."""
    return Messages(resident_language(language))


def every_language() -> Tuple[Messages, ...]:
    """One `Messages` per city language, the default first."""
    return tuple(Messages(code) for code in city_languages())
