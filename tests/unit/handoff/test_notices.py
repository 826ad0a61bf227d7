"""The notices staff actions send residents name the city of the city file."""

from pathlib import Path

import pytest

from bot.handoff.service import CLOSED_TEXT, HANDED_BACK_TEXT, branded
from tests.support.city import use_city


def test_the_notices_name_riverton_by_default(city: None) -> None:
    assert "the Riverton 311 assistant" in branded(HANDED_BACK_TEXT)
    assert branded(CLOSED_TEXT).endswith("Thank you for contacting the City of Riverton.")


def test_another_city_file_renames_the_notices(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_city(monkeypatch, tmp_path, "Town of Lakeside", "211", "Lakeside 211", "#1a5e20")
    assert "the Lakeside 211 assistant" in branded(HANDED_BACK_TEXT)
    assert branded(CLOSED_TEXT).endswith("Thank you for contacting the Town of Lakeside.")
    assert "Riverton" not in branded(HANDED_BACK_TEXT) + branded(CLOSED_TEXT)
