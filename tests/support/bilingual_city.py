"""A small English and Spanish city file for the tests of texts in the resident's language.

Its Spanish contacts, hours and names are its own (the bundled Riverton's
translations may change), so a test can state the exact sentence a Spanish
reader gets.
"""

from pathlib import Path

import pytest

from tests.support.city import use_city_text

BILINGUAL_CITY = """
jurisdiction:
  id: example.gov
  name: City of Example
  timezone: America/Chicago
  phone_311: "311, or (555) 010-0999 from outside the city"
  city_hall: {address: "1 Main St", hours: "Monday to Friday, 9 AM to 5 PM", closed: "weekends"}
  languages: [English, Spanish]
branding:
  assistant: Example 311
  phone: "311"
services:
  - code: POTHOLE
    name: Pothole
    attributes:
      - {code: size, datatype: singlevaluelist, required: true, description: "How big?", values: [small, large]}
translations:
  es:
    jurisdiction:
      name: Ciudad de Example
      phone_311: "311, o (555) 010-0999 desde fuera de la ciudad"
      city_hall: {hours: "de lunes a viernes, de 9 a. m. a 5 p. m.", closed: "los fines de semana"}
    branding: {assistant: Ejemplo 311}
"""


def use_bilingual_city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The city file above, loaded afresh (call with the `city` fixture, which cleans up)."""
    use_city_text(monkeypatch, tmp_path, BILINGUAL_CITY)
