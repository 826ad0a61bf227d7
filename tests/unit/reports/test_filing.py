"""What a resident is told after confirming, in the language they reported in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.catalog import load_city
from bot.i18n.messages import messages
from bot.open311.models import ServiceRequest
from bot.reports.draft import ReportDraft
from bot.reports.filing import Submission, submission_message, time_frame
from bot.reports.outbox import AWAITING_ID, FILED, PENDING, REJECTED, OutboxItem
from tests.support.reports import use_spanish_riverton

DRAFT = ReportDraft(service_code="POTHOLE", service_name="Pothole", location="12 Elm St", language="es")


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_spanish_riverton(monkeypatch, tmp_path)


def item(state: str, language: str = "es", **values) -> OutboxItem:
    fields = dict(
        reference="R-7KQ2MA",
        idempotency_key="k",
        sender_id="resident",
        service_code="POTHOLE",
        service_name="Pothole",
        fields={},
        state=state,
        attempts=1,
        last_error=None,
        token=None,
        service_request_id=None,
        created_at=dt.datetime.now(dt.timezone.utc),
        resident_told=False,
        language=language,
    )
    fields.update(values)
    return OutboxItem(**fields)  # type: ignore[arg-type]


def test_a_filed_report_in_spanish_with_its_usual_time_frame():
    text = submission_message(Submission(item(FILED, service_request_id="1042"), None), DRAFT, load_city())
    assert text == (
        "¡Gracias! Su reporte de bache quedó registrado. Su número de solicitud es 1042 (su referencia: R-7KQ2MA). "
        "Normalmente se atienden en un plazo de 5 días (Departamento de Obras Públicas). "
        'Para consultarlo más adelante, escríbame "estado de la solicitud 1042".'
    )


def test_the_back_offices_date_in_spanish_and_in_english():
    request = ServiceRequest(service_request_id="1042", expected_datetime="2026-12-08T18:00:00Z")
    city = load_city()
    assert time_frame(request, "POTHOLE", city, messages("es")) == (
        "Se espera que quede resuelto a más tardar el martes, 8 de diciembre (Departamento de Obras Públicas)."
    )
    assert time_frame(request, "POTHOLE", city, messages("en")) == (
        "Department of Public Works expects to have it handled by Tuesday, December 8."
    )
    assert time_frame(None, "WATER_LEAK", city, messages("en")) == (
        "Riverton Water Utility usually handles these within 1 business day."
    )
    assert time_frame(None, "WATER_LEAK", city, messages("es")) == (
        "Normalmente se atienden en un plazo de 1 día hábil (Riverton Water Utility)."
    )


def test_saved_awaiting_and_rejected_reports_in_spanish():
    city = load_city()
    saved = submission_message(Submission(item(PENDING), None), DRAFT, city)
    assert saved.startswith("¡Gracias! Su reporte de bache quedó guardado con la referencia R-7KQ2MA.")
    waiting = submission_message(Submission(item(AWAITING_ID), None), DRAFT, city)
    assert waiting.startswith("¡Gracias! La Ciudad recibió su reporte de bache. Su referencia es R-7KQ2MA;")
    refused = submission_message(Submission(item(REJECTED, last_error="400 bad"), None), DRAFT, city)
    assert refused == (
        "Disculpe, el sistema de la Ciudad no aceptó el reporte (400 bad). "
        "Por favor, llame al 311 para que el personal lo presente por usted."
    )


def test_the_message_follows_the_reports_language_not_the_drafts_text():
    text = submission_message(Submission(item(FILED, language="en", service_request_id="9"), None), DRAFT, load_city())
    assert text.startswith("Thank you! Your pothole report has been filed. Your request number is 9")
