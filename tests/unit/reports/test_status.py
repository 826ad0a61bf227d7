"""Status lookups in the resident's language: the back office's notes as written, dates in the city's time zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.i18n.messages import messages
from bot.open311.models import ServiceRequest
from bot.reports.status import (
    city_day,
    describe_request,
    malformed_message,
    not_found_message,
    unavailable_message,
)
from tests.support.reports import use_spanish_riverton

REQUEST = ServiceRequest(
    service_request_id="1042",
    status="open",
    status_notes="assigned to a crew",
    service_name="Pothole",
    service_code="POTHOLE",
    address="12 Elm St",
    agency_responsible="Department of Public Works",
    updated_datetime="2026-12-08T15:00:00-06:00",
    expected_datetime="2026-12-12T03:00:00+00:00",  # still Friday the 11th in Riverton (America/Chicago)
)


@pytest.fixture(autouse=True)
def spanish_riverton(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_spanish_riverton(monkeypatch, tmp_path)


def test_a_request_described_in_spanish():
    assert describe_request(REQUEST, messages("es")) == (
        "La solicitud 1042 (Bache en 12 Elm St) está abierta: assigned to a crew. "
        "Última actualización: martes, 8 de diciembre. "
        "Se espera que quede resuelta a más tardar el viernes, 11 de diciembre. "
        "La atiende: Departamento de Obras Públicas."
    )


def test_a_request_described_in_english():
    assert describe_request(REQUEST, messages("en")) == (
        "Request 1042 (Pothole at 12 Elm St) is open: assigned to a crew. Last updated Tuesday, December 8. "
        "Expected to be handled by Friday, December 11. Handled by Department of Public Works."
    )


def test_a_closed_request_and_a_status_the_back_office_made_up():
    closed = ServiceRequest(service_request_id="7", status="closed", service_code="POTHOLE", service_name="Pothole")
    assert describe_request(closed, messages("es")) == "La solicitud 7 (Bache) está cerrada."
    odd = ServiceRequest(service_request_id="8", status="On Hold", agency_responsible="Somebody Else")
    assert describe_request(odd, messages("es")) == (
        "La solicitud 8 (solicitud de servicio) está on hold. La atiende: Somebody Else."
    )


def test_dates_are_the_city_days():
    late = dt.datetime(2026, 12, 9, 2, 0, tzinfo=dt.timezone.utc)  # Tuesday evening in Riverton
    assert city_day(messages("es"), late) == "martes, 8 de diciembre"
    assert city_day(messages("en"), late) == "Tuesday, December 8"


def test_not_found_malformed_and_unreachable_in_spanish():
    es = messages("es")
    assert not_found_message("987654", es).startswith("No encontré ninguna solicitud con el número 987654.")
    assert malformed_message(es).startswith("Eso no parece un número de solicitud.")
    assert unavailable_message(es).endswith("o llame al 311.")
