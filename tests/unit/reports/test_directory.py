"""A resident names a service in either language; the service buttons send codes."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from bot.db.engine import reset_database
from bot.open311.models import Service
from bot.reports.directory import ServiceDirectory, shown_name
from tests.support.reports import use_spanish_riverton

SERVICES = [
    Service(service_code="POTHOLE", service_name="Pothole", keywords=["hole in road"]),
    Service(service_code="MISSED_TRASH", service_name="Missed garbage collection"),
    Service(service_code="ABANDONED_VEHICLE", service_name="Abandoned vehicle"),
]


class BackOffice:
    base_url = "http://back-office.test/open311/v2"

    async def list_services(self) -> List[Service]:
        return SERVICES


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    use_spanish_riverton(monkeypatch, tmp_path)
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


@pytest.fixture
def directory() -> ServiceDirectory:
    return ServiceDirectory(client=BackOffice())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "said, language, code",
    [
        ("bache", "es", "POTHOLE"),
        ("Bache", "en", "POTHOLE"),  # an English reader typing the Spanish name
        ("pothole", "es", "POTHOLE"),  # a Spanish reader typing the back office's name
        ("vehiculo abandonado", "es", "ABANDONED_VEHICLE"),
        ("MISSED_TRASH", "es", "MISSED_TRASH"),  # what a service button sends
        ("2", "es", "MISSED_TRASH"),
    ],
)
async def test_a_service_named_in_either_language(directory, said, language, code):
    found = await directory.find(said, language)
    assert found is not None and found.service_code == code


async def test_keywords_of_the_back_office_and_of_the_translations(directory):
    assert (await directory.find_by_keyword("there's a hole in road here")).service_code == "POTHOLE"
    assert (await directory.find_by_keyword("no pasó el camión de la basura")).service_code == "MISSED_TRASH"
    assert await directory.find_by_keyword("something else entirely") is None
    assert await directory.find("hole in road", "en") is None  # names only: keywords are asked for separately


def test_the_service_buttons_show_translated_names():
    assert shown_name(SERVICES[0], "es") == "Bache"
    assert shown_name(SERVICES[0], "en") == "Pothole"
    assert shown_name(Service(service_code="X"), "es") == "X"
