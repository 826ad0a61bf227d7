"""The city file's texts in a resident's language, the back office's own text when untranslated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.city import attribute_text, branding, city_info, city_name, service_text, value_name
from tests.support.city import use_city_text

CITY = """
jurisdiction:
  id: example.gov
  name: City of Example
  phone_311: "311"
  city_hall: {address: "1 Main St", hours: "Monday to Friday, 9 AM to 5 PM", closed: "weekends"}
  languages: [English, Spanish]
services:
  - code: POTHOLE
    name: Pothole
    attributes:
      - {code: size, datatype: singlevaluelist, required: true, description: "How big?", values: [small, large]}
      - {code: ok, datatype: singlevaluelist, required: true, description: "Is it safe?", values: [yes, no]}
translations:
  es:
    jurisdiction: {name: Ciudad de Example, city_hall: {hours: "de lunes a viernes, de 9 a. m. a 5 p. m."}}
    services:
      POTHOLE:
        name: Bache
        attributes:
          size: {description: "¿Qué tan grande?", values: {small: pequeño}}
          ok: {values: {yes: sí}}
"""


@pytest.fixture(autouse=True)
def example_city(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_city_text(monkeypatch, tmp_path, CITY)


def test_translations_replace_only_what_they_give() -> None:
    assert city_name("es") == "Ciudad de Example"
    info = city_info("es")
    assert info["city_hall"] == {
        "address": "1 Main St",
        "hours": "de lunes a viernes, de 9 a. m. a 5 p. m.",
        "closed": "weekends",
    }
    assert city_info("en")["city_hall"]["hours"] == "Monday to Friday, 9 AM to 5 PM"
    assert branding("es").city == "Ciudad de Example" and branding("en").city == "City of Example"


def test_services_questions_and_choices_by_code_and_key() -> None:
    assert service_text("es", "POTHOLE", "name", "Pothole (back office)") == "Bache"
    assert service_text("en", "POTHOLE", "name", "Pothole (back office)") == "Pothole (back office)"
    assert service_text("es", "OTHER", "name", "Other") == "Other"
    assert attribute_text("es", "POTHOLE", "size", "How big?") == "¿Qué tan grande?"
    assert value_name("es", "POTHOLE", "size", "small", "small") == "pequeño"
    assert value_name("es", "POTHOLE", "size", "large", "large") == "large"  # untranslated: as the back office says
    assert value_name("es", "POTHOLE", "ok", "yes", "yes") == "sí"  # a YAML boolean key
