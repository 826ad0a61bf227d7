"""SMS keywords for crisis alerts, through the real Twilio webhook."""

import pytest

from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e


def test_alerts_on_and_off_by_sms_keyword(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    reply = phone.send("ALERTS ON")
    assert "alert" in reply.lower() and "ALERTS OFF" in reply, phone.transcript
    reply = phone.send("ALERTS OFF")
    assert "alert" in reply.lower(), phone.transcript
    assert "311 assistant" in phone.send("hello")  # other messages still reach the assistant


def test_spanish_keywords_are_answered_in_spanish(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    reply = phone.send("ALERTAS SÍ AGUA NORTE")
    assert "alertas de agua para la zona Norte" in reply and "ALERTAS NO" in reply, phone.transcript
    reply = phone.send("alertas no")
    assert "desactivadas" in reply, phone.transcript
