"""What the worker tells a resident once a stored report reaches the back office, in the resident's language."""

from __future__ import annotations

import datetime as dt

from bot.i18n.messages import messages
from bot.process.worker import outcome_text
from bot.reports.outbox import FILED, REJECTED, OutboxItem


def item(state: str, language: str) -> OutboxItem:
    return OutboxItem(
        reference="R-7KQ2MA",
        idempotency_key="k",
        sender_id="resident",
        service_code="WATER_LEAK",
        service_name="Water leak or open hydrant",
        fields={},
        state=state,
        attempts=2,
        last_error=None,
        token=None,
        service_request_id="1042" if state == FILED else None,
        created_at=dt.datetime.now(dt.timezone.utc),
        resident_told=False,
        language=language,
    )


def test_the_request_number_in_the_language_the_resident_reads_now():
    filed = item(FILED, language="en")
    assert outcome_text(filed, messages("es")).startswith("Su reporte de ")
    assert "Su número de solicitud es 1042" in outcome_text(filed, messages("es"))
    assert outcome_text(filed) == (
        "Your water leak or open hydrant report R-7KQ2MA has reached the city. "
        "Its request number is 1042; I'll let you know when it is updated."
    )


def test_a_refusal_in_the_language_of_the_report_when_nothing_else_is_known():
    assert outcome_text(item(REJECTED, language="es")).startswith(
        "Disculpe, el sistema de la Ciudad no aceptó su reporte"
    )
