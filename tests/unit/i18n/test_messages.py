"""Texts by key in a resident's language, plural forms, fallbacks and dates written per language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest

from bot.i18n import messages as messages_module
from bot.i18n.messages import MissingText, clear_catalogs, messages


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Catalogs written by the test instead of the project's."""
    for language, header_plural in (("en", "nplurals=2; plural=(n != 1);"), ("es", "nplurals=2; plural=(n != 1);")):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "test.po").write_text(
            "\n".join(
                [
                    'msgid ""',
                    'msgstr ""',
                    '"Content-Type: text/plain; charset=UTF-8\\n"',
                    f'"Plural-Forms: {header_plural}\\n"',
                    "",
                    'msgid "common.day_pattern"',
                    'msgstr "EEEE, MMMM d"' if language == "en" else "msgstr \"EEEE, d 'de' MMMM\"",
                    "",
                    'msgid "test.hello"',
                    'msgstr "Hello, {name}."' if language == "en" else 'msgstr "Hola, {name}."',
                    "",
                    'msgid "test.people"',
                    'msgid_plural "test.people"',
                    'msgstr[0] "{count} person"' if language == "en" else 'msgstr[0] "{count} persona"',
                    'msgstr[1] "{count} people"' if language == "en" else 'msgstr[1] "{count} personas"',
                    "",
                ]
                + (['msgid "test.only_english"', 'msgstr "Only in English."', ""] if language == "en" else [])
            ),
            encoding="utf-8",
        )
    monkeypatch.setattr(messages_module, "LOCALES", tmp_path)
    clear_catalogs()
    messages.cache_clear()
    yield tmp_path
    clear_catalogs()
    messages.cache_clear()


def test_a_text_in_each_language(locales: Path) -> None:
    assert messages("en").text("test.hello", name="Ana") == "Hello, Ana."
    assert messages("es").text("test.hello", name="Ana") == "Hola, Ana."


def test_an_unknown_or_unset_language_reads_the_default(locales: Path) -> None:
    assert messages(None).text("test.hello", name="Ana") == "Hello, Ana."
    assert messages("fr").text("test.hello", name="Ana") == "Hello, Ana."


def test_a_missing_translation_falls_back_to_the_default_language(locales: Path) -> None:
    assert messages("es").text("test.only_english") == "Only in English."
    assert not messages("es").has("test.only_english")


def test_plural_forms_follow_the_count(locales: Path) -> None:
    assert messages("en").plural("test.people", 1) == "1 person"
    assert messages("en").plural("test.people", 3) == "3 people"
    assert messages("es").plural("test.people", 1) == "1 persona"
    assert messages("es").plural("test.people", 0) == "0 personas"


def test_a_missing_key_is_a_bug_not_a_blank(locales: Path) -> None:
    with pytest.raises(MissingText):
        messages("en").text("test.nothing_here")
    with pytest.raises(MissingText):
        messages("en").text("test.people")  # a plural text read as a plain one


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    tuesday = dt.date(2026, 12, 8)
    assert messages("en").day(tuesday) == "Tuesday, December 8"
    assert messages("es").day(tuesday) == "martes, 8 de diciembre"
    assert messages("es").date(tuesday) == "8 de diciembre de 2026"
    moment = dt.datetime(2026, 12, 8, 21, 5, tzinfo=dt.timezone.utc)
    assert messages("en").moment(moment, "America/Chicago") == "Tuesday, December 8 at 3:05\u202fPM"
    assert messages("es").moment(moment, "America/Chicago").startswith("martes, 8 de diciembre a las 3:05")
