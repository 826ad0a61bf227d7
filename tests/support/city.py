"""Another city file for a test, and the city file loaded afresh around each test that asks."""

from pathlib import Path
from typing import Iterator

import pytest
import yaml

from bot.catalog import DEFAULT_CITY_FILE, load_city


@pytest.fixture
def city(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test loads the city file afresh (and leaves no other city behind)."""
    forget_city()
    yield
    monkeypatch.undo()
    forget_city()


def forget_city() -> None:
    """Drop everything read from the city file, so the next read loads it again."""
    from bot.i18n import languages

    load_city.cache_clear()
    languages.city_languages.cache_clear()
    languages._native_names.cache_clear()


def use_city(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, phone: str, assistant: str, brand: str
) -> None:
    raw = yaml.safe_load(DEFAULT_CITY_FILE.read_text(encoding="utf-8"))
    raw["jurisdiction"].update(name=name, phone_311=f"{phone}, or (555) 123-4567 from outside the city")
    colours = {"brand": brand, "brand_dark": "#202020", "brand_tint": "#f0f0f0", "focus": "#aa3300"}
    raw["branding"] = {"assistant": assistant, "phone": phone, "colours": colours}
    for texts in (raw.get("translations") or {}).values():
        texts.pop("jurisdiction", None)  # Riverton's name and contacts in other languages are not this city's
    path = tmp_path / "city.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setenv("CITY_FILE", str(path))
    load_city.cache_clear()


def use_city_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    """A city file written by the test (YAML text), loaded afresh with everything read from it."""
    path = tmp_path / "city.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CITY_FILE", str(path))
    forget_city()
