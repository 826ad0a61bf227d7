"""A pothole reported in Spanish, end to end: Spanish texts, the back office's codes and keys, the language recorded.

The resident chooses Spanish with the language button's payload and starts the
report with the report button's; the answers are typed in Spanish. Only the
report form's own texts are checked (the city file's translations and the
fixed replies come from other parts of the project).
"""

from __future__ import annotations

import re

import pytest

from tests.support.conversation import Conversation
from tests.support.reports import stored, unique_address

pytestmark = pytest.mark.e2e


def test_a_pothole_reported_in_spanish(stack, conversation: Conversation):
    talk = conversation
    talk.text('/set_language{"language": "es"}')
    talk.text("/report_pothole")
    reply = talk.text("grande")
    assert reply.endswith('(Opcional: diga "omitir" si no lo sabe.)'), talk.transcript
    talk.text("omitir")
    address = unique_address()
    talk.text(address)
    talk.text("Hay un hoyo muy hondo frente a la panadería")
    reply = talk.text("omitir")
    assert "Este es su reporte:" in reply and f"Ubicación: {address}" in reply, talk.transcript
    assert "Contacto: anónimo" in reply and "¿Lo envío a la Ciudad?" in reply
    reply = talk.text("sí")
    match = re.search(r"Su número de solicitud es (\w[\w-]*)", reply)
    assert match, talk.transcript
    request = stored(stack, match.group(1))
    assert request is not None and request.service_code == "POTHOLE"
    assert request.attributes == {"size": "large (bigger than a car tire)"}
    assert request.description.startswith("Hay un hoyo muy hondo frente a la panadería [ref R-")
    assert request.description.endswith("[lang es]")
