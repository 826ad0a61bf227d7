"""Bad input refused early and cleanly by the parsers behind the webhooks: XML bombs, foreign media links,
failures logged without what the resident wrote.

The same limits over real HTTP against the running assistant are in tests/e2e/test_input_limits.py.
"""

from __future__ import annotations

import time

import pytest

from bot.channels.twilio_inbound import FormParams, InboundMessage, twilio_media_url_ok
from bot.failures import failure_summary
from bot.open311.models import Open311ParseError
from bot.open311.parse import decode

QUICK_SECONDS = 1.0  # generous: a refusal is milliseconds


# --- XML from a back office -----------------------------------------------------

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + "]><service_requests><request><description>&lol9;</description></request></service_requests>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    "<service_requests><request><description>&secret;</description></request></service_requests>"
)


@pytest.mark.parametrize(
    "body",
    [LAUGHS.encode(), EXTERNAL.encode(), LAUGHS.encode("utf-16"), EXTERNAL.encode("utf-16"), LAUGHS],
    ids=["billion-laughs", "external-entity", "laughs-utf16", "external-utf16", "laughs-str"],
)
def test_xml_bombs_and_external_entities_are_refused_quickly(body):
    """UTF-16 hides the DTD from a byte scan; defusedxml still refuses it."""
    started = time.monotonic()
    with pytest.raises(Open311ParseError, match="DTD|forbidden"):
        decode(body, "xml")
    assert time.monotonic() - started < QUICK_SECONDS


def test_plain_xml_still_parses():
    tree = decode(
        b"<service_requests><request><service_request_id>7</service_request_id></request></service_requests>", "xml"
    )
    assert tree == [{"service_request_id": "7"}]


# --- Twilio media links ----------------------------------------------------------


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("https://media.twiliocdn.com/AC1/abc", True),
        ("https://s3-external-1.twiliocdn.com/AC1/abc", True),
        ("https://attacker.example/photo.jpg", False),
        ("https://api.twilio.com.attacker.example/photo.jpg", False),
        ("https://eviltwiliocdn.com/photo.jpg", False),
        ("http://api.twilio.com/2010-04-01/x", False),
        ("https://user:pass@api.twilio.com/x", False),
        ("https://api.twilio.com:8443/x", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("file:///etc/passwd", False),
    ],
)
def test_only_twilio_media_hosts_are_accepted(url, ok):
    assert twilio_media_url_ok(url, "https://api.twilio.com") is ok
    form = FormParams.from_pairs(
        [
            ("MessageSid", "SM1"),
            ("From", "+15551112222"),
            ("NumMedia", "1"),
            ("MediaUrl0", url),
            ("MediaContentType0", "image/jpeg"),
        ]
    )
    assert InboundMessage.from_form(form, "https://api.twilio.com").metadata == ({"media_url": url} if ok else {})


def test_the_configured_api_host_is_accepted_over_http_only_when_configured_so():
    assert twilio_media_url_ok("http://127.0.0.1:9000/media/1", "http://127.0.0.1:9000")
    assert not twilio_media_url_ok("http://127.0.0.1:9001/media/1", "http://127.0.0.1:9000")
    assert not twilio_media_url_ok("http://127.0.0.1:9000/media/1", "https://api.twilio.com")


# --- failure log lines ------------------------------------------------------------


def test_a_failure_is_logged_by_type_and_place_never_by_its_text():
    def handle(text: str) -> None:
        raise ValueError(f"cannot read {text!r}")

    try:
        handle("my phone is 555-0100")
    except ValueError as error:
        line = failure_summary(error)
    assert line.startswith("ValueError at ") and "in handle" in line and "test_input_limits.py" in line
    assert "555-0100" not in line and "phone" not in line
