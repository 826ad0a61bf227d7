"""X-Twilio-Signature checks against Twilio's own published vectors, and the URL they sign.

The vectors (../shared/eval/twilio/signature_vectors.json) come from
twilio-python's tests and Twilio's docs, recomputed independently: valid ones
must be accepted, tampered ones rejected.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.twilio_inbound import FormParams, MalformedWebhook, parse_form
from bot.channels.twilio_signature import is_valid_signature, signed_url
from tests.support.stack import SHARED

TWILIO_EVAL = SHARED / "eval" / "twilio"
VECTORS: Dict[str, Any] = json.loads((TWILIO_EVAL / "signature_vectors.json").read_text(encoding="utf-8"))
EXAMPLES: Dict[str, Any] = json.loads((TWILIO_EVAL / "inbound_sms_webhook_examples.json").read_text(encoding="utf-8"))
TOKEN: str = VECTORS["auth_token"]
DOCS_EXAMPLE = VECTORS["cases"][0]


def params_of(case: Dict[str, Any]) -> Any:
    """The signed parameters of a vector: a form (repeated keys kept) or a raw JSON body."""
    if "body" in case:
        return case["body"]
    if "params_multi" in case:
        return FormParams.from_pairs([tuple(pair) for pair in case["params_multi"]])
    raw = case["params_inline"] if "params_inline" in case else VECTORS[case["params"]]
    return FormParams.from_pairs(list(raw.items()))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_valid_vectors_are_accepted(case):
    assert case["valid"] is True
    assert is_valid_signature(TOKEN, case["url"], params_of(case), case["signature"])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_valid_vectors_fail_with_another_token(case):
    assert not is_valid_signature("not-" + TOKEN, case["url"], params_of(case), case["signature"])


@pytest.mark.parametrize("negative", VECTORS["negative_cases"], ids=[c["name"] for c in VECTORS["negative_cases"]])
def test_invalid_vectors_are_rejected(negative):
    assert negative["valid"] is False
    params = params_of(DOCS_EXAMPLE)
    for key, value in negative.get("mutate", {}).items():
        params[key] = [value]
    token = negative.get("auth_token", TOKEN)
    signature = negative.get("signature", DOCS_EXAMPLE["signature"])
    assert not is_valid_signature(token, DOCS_EXAMPLE["url"], params, signature)


def test_json_body_must_match_its_body_sha256():
    case = next(c for c in VECTORS["cases"] if "body" in c)
    assert not is_valid_signature(TOKEN, case["url"], case["body"].replace("true", "false"), case["signature"])


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_a_missing_signature_is_invalid(signature):
    assert not is_valid_signature(TOKEN, DOCS_EXAMPLE["url"], params_of(DOCS_EXAMPLE), signature)


def test_a_different_query_string_is_invalid():
    url = DOCS_EXAMPLE["url"].replace("foo=1&bar=2", "bar=2&foo=1")
    assert not is_valid_signature(TOKEN, url, params_of(DOCS_EXAMPLE), DOCS_EXAMPLE["signature"])


# --- the URL Twilio signed ------------------------------------------------------


def test_public_url_wins_over_the_internal_address_and_forwarded_headers():
    url = signed_url(
        "https://bot.city.gov/",
        "http",
        "10.0.0.5:5005",
        "/webhooks/twilio/webhook",
        "",
        forwarded_proto="http",
        forwarded_host="evil.example",
    )
    assert url == "https://bot.city.gov/webhooks/twilio/webhook"


def test_public_url_with_a_path_prefix_and_the_query_string_as_received():
    url = signed_url("https://city.gov/311", "http", "internal:5005", "/webhooks/twilio/webhook", "a=1&b=%20x")
    assert url == "https://city.gov/311/webhooks/twilio/webhook?a=1&b=%20x"


def test_forwarded_headers_are_used_without_public_url():
    url = signed_url(
        None,
        "http",
        "10.0.0.5:5005",
        "/webhooks/twilio/webhook",
        "x=1",
        forwarded_proto="https, http",
        forwarded_host="bot.city.gov",
    )
    assert url == "https://bot.city.gov/webhooks/twilio/webhook?x=1"


def test_the_request_itself_without_public_url_or_proxy():
    assert (
        signed_url("", "http", "127.0.0.1:5005", "/webhooks/twilio/webhook")
        == "http://127.0.0.1:5005/webhooks/twilio/webhook"
    )


def test_behind_a_tls_proxy_on_the_default_port():
    """Twilio may sign https://host/... or https://host:443/...; both are accepted."""
    params = FormParams.from_pairs([("From", "+15550001111"), ("Body", "hi")])
    rebuilt = signed_url("https://bot.city.gov", "http", "127.0.0.1:5005", "/webhooks/twilio/webhook", "")
    validator = RequestValidator(TOKEN)
    for as_signed in (
        "https://bot.city.gov/webhooks/twilio/webhook",
        "https://bot.city.gov:443/webhooks/twilio/webhook",
    ):
        signature = validator.compute_signature(as_signed, {"From": "+15550001111", "Body": "hi"})
        assert is_valid_signature(TOKEN, rebuilt, params, signature)
    internal = validator.compute_signature(
        "http://127.0.0.1:5005/webhooks/twilio/webhook", {"From": "+15550001111", "Body": "hi"}
    )
    assert not is_valid_signature(TOKEN, rebuilt, params, internal)


# --- reading the signed form ------------------------------------------------------


def sms_form() -> List[tuple]:
    return list(EXAMPLES["sms_text"].items())


def test_empty_values_are_kept_because_twilio_signs_them():
    body = urlencode(sms_form()).encode()
    params = parse_form(body, "application/x-www-form-urlencoded; charset=utf-8")
    assert params.first("ToZip", "missing") == ""
    url = "https://bot.city.gov/webhooks/twilio/webhook"
    signature = RequestValidator(TOKEN).compute_signature(url, dict(sms_form()))
    assert is_valid_signature(TOKEN, url, params, signature)
    del params["ToZip"]
    assert not is_valid_signature(TOKEN, url, params, signature)


def test_an_empty_body_is_an_empty_form():
    assert parse_form(b"", "application/x-www-form-urlencoded") == {}


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"From": "+15550001111"}', "application/json"),
        (b"From=%2B1555&Body", "application/x-www-form-urlencoded"),
        (b"Body=%ff%fe", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b"From=1", None),
    ],
)
def test_malformed_forms_are_refused(body, content_type):
    with pytest.raises(MalformedWebhook):
        parse_form(body, content_type)
