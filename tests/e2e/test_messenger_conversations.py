"""Whole conversations on Messenger and Instagram: a report filed, then its status asked, in English and Spanish.

Meta's webhook bodies go signed to the real Rasa server (tests/support/messenger.py);
the answers are read at the fake Graph API; the report's status is the reference
Open311 server's, changed there as the city's back office changes it. The webhook's
gate and single events are in tests/e2e/test_messenger_channel.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Tuple

import pytest

from tests.e2e import test_conversations, test_conversations_es
from tests.e2e.test_status_updates import change_status
from tests.e2e.test_survey import reference_in
from tests.support.messenger import MetaResident, last_with, text_of
from tests.support.reports import unique_address

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]


@dataclass(frozen=True)
class Lookup:
    """What a resident of one language says and reads in a status lookup."""

    file_report: Callable[..., Tuple[str, str]]  # the REST tests' report walk: (request number, its confirmation)
    notes: str  # the back office's status notes, as its staff write them
    ask: str  # "what's the status of my report", no number
    number_asked: str
    status: str  # {request_id}, {notes}: the lookup's answer
    with_reference: str  # {reference}
    by_number: str  # {request_id}: asked with the city's number


ENGLISH = Lookup(
    test_conversations.file_report,
    "assigned to a Forestry crew",
    "what's the status of my report?",
    "What's the request number?",
    "Request {request_id} (Fallen tree or branch at {address}) is open: {notes}.",
    "(Your reference: {reference}.)",
    "status of request {request_id}",
)
SPANISH = Lookup(
    test_conversations_es.file_report,
    "asignado a una cuadrilla de Forestal",
    "¿cómo va mi reporte?",
    "¿Cuál es el número de la solicitud?",
    "La solicitud {request_id} (Árbol o rama caída en {address}) está abierta: {notes}.",
    "(Su referencia: {reference}.)",
    "estado de la solicitud {request_id}",
)


@pytest.mark.parametrize(
    "lookup, instagram",
    [(ENGLISH, False), (SPANISH, False), (ENGLISH, True)],
    ids=["messenger-english", "messenger-spanish", "instagram-english"],
)
def test_a_report_filed_on_messenger_then_its_status_from_the_back_office(
    stack, fake_cloud, lookup: Lookup, instagram: bool
):
    resident = MetaResident(stack, fake_cloud, instagram=instagram)
    address = unique_address()
    request_id, filed = lookup.file_report(resident, "FALLEN_TREE", address)
    reference = reference_in(filed)
    change_status(stack, request_id, "open", lookup.notes)  # the city's back office: a crew is on it

    assert lookup.number_asked in resident.say(lookup.ask), resident.transcript
    answer = last_with(resident.send(text=reference), lookup.with_reference.format(reference=reference))
    status = lookup.status.format(request_id=request_id, address=address, notes=lookup.notes)
    assert answer["message"]["text"].startswith(status), answer
    assert answer["messaging_type"] == "RESPONSE"

    # By the city's number, in the words the confirmation taught. (The worker's "Update on your report"
    # says the same status and may arrive meanwhile: the answer is the message that starts with it.)
    by_number = resident.send(text=lookup.by_number.format(request_id=request_id))
    assert [m for m in by_number if m["message"]["text"].startswith(status)], text_of(by_number)
