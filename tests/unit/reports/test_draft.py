"""The read-back a resident confirms, in their language; what is filed stays the back office's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.messages import messages
from bot.open311.models import ServiceAttribute, ServiceDefinition
from bot.reports.draft import ReportDraft
from tests.support.reports import use_spanish_riverton

LARGE = "large (bigger than a car tire)"
DEFINITION = ServiceDefinition(
    service_code="POTHOLE",
    attributes=[
        ServiceAttribute(
            code="size",
            datatype="singlevaluelist",
            required=True,
            description="How big is it?",
            values=[(LARGE, LARGE)],
        ),
        ServiceAttribute(
            code="lane",
            datatype="singlevaluelist",
            required=False,
            description="Where on the road?",
            values=[("bike lane", "bike lane")],
        ),
    ],
)
DRAFT = ReportDraft(
    service_code="POTHOLE",
    service_name="Pothole",
    attributes={"size": LARGE, "lane": None},
    latitude=41.5,
    longitude=-87.25,
    description="Hay un hoyo muy hondo",
    contact_text="anonymous",
    media_url="https://example.org/hoyo.jpg",
    language="es",
)


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_spanish_riverton(monkeypatch, tmp_path)


def test_the_spanish_summary():
    assert DRAFT.summary(DEFINITION, messages("es")) == "\n".join(
        [
            "Este es su reporte:",
            "- Servicio: Bache",
            "- Qué tan grande es: grande (más grande que una llanta de carro)",
            "- En qué parte de la calle está: (omitida)",
            "- Ubicación: la ubicación que compartió (41.50000, -87.25000)",
            "- Descripción: Hay un hoyo muy hondo",
            "- Foto: adjunta",
            "- Contacto: anónimo",
            "¿Lo envío a la Ciudad?",
        ]
    )


def test_the_english_summary_is_unchanged():
    text = DRAFT.summary(DEFINITION, messages("en"))
    assert text.startswith("Here's your report:\n- Service: Pothole\n- How big is it: large (bigger than a car tire)\n")
    assert "- Where on the road: (skipped)" in text and "- Contact: anonymous" in text
    assert "the location you shared (41.50000, -87.25000)" in text and text.endswith("Shall I send it to the city?")


def test_the_filed_fields_are_the_back_offices_keys_and_the_description_as_written():
    fields = DRAFT.open311_fields()
    assert fields["attributes"] == {"size": LARGE}
    assert fields["description"] == "Hay un hoyo muy hondo"


def test_the_draft_takes_the_residents_language_from_the_slots():
    draft = ReportDraft.from_slots({"service_code": "POTHOLE", "language": "es"}, service_name="Pothole")
    assert draft.language == "es"
