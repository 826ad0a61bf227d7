"""Conversation ids: a public assistant (PUBLIC_URL https) refuses the development CITYBOT_SECRET_KEY (a
local run needs none); anonymised conversations keep their channel and belong to no one."""

from __future__ import annotations

import json

import pytest

from bot.channels import identity
from bot.channels.rest import RestRequestError, parse_rest_message
from tests.support.production import DEV_KEY, PUBLIC_HTTPS


@pytest.mark.parametrize("key", [None, "", DEV_KEY])
def test_https_without_a_real_key_is_refused(monkeypatch, key):
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_HTTPS)
    if key is None:
        monkeypatch.delenv("CITYBOT_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("CITYBOT_SECRET_KEY", key)
    with pytest.raises(SystemExit, match="CITYBOT_SECRET_KEY"):
        identity.require_production_secret()
    with pytest.raises(SystemExit, match="CITYBOT_SECRET_KEY"):
        identity.secret_key()  # a use that slipped past startup refuses too


def test_development_and_real_keys_are_accepted_where_they_belong(monkeypatch):
    monkeypatch.delenv("CITYBOT_SECRET_KEY", raising=False)
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:5005")
    assert identity.secret_key() == DEV_KEY.encode()  # a local run needs no key
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_HTTPS)
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "a-real-long-random-secret")
    assert identity.secret_key() == b"a-real-long-random-secret"


def test_an_anonymised_conversation_keeps_its_channel_and_is_nobodys(monkeypatch):
    monkeypatch.delenv("CITYBOT_SECRET_KEY", raising=False)
    resident = identity.sender_id_for("telegram", "123456")
    anonymous = identity.anonymous_sender_id(identity.channel_of(resident))
    assert identity.channel_of(resident) == identity.channel_of(anonymous) == "telegram"
    assert identity.is_anonymous_sender_id(anonymous) and not identity.is_anonymous_sender_id(resident)
    assert not identity.is_channel_sender_id(anonymous)
    assert anonymous != identity.anonymous_sender_id("telegram")  # random: two are never one conversation
    assert identity.channel_of("an integration's id") == identity.channel_of(identity.anonymous_sender_id("rest"))


def test_the_rest_channel_cannot_write_to_an_anonymised_conversation():
    body = json.dumps({"sender": identity.anonymous_sender_id("sms"), "message": "hello"}).encode()
    with pytest.raises(RestRequestError) as refused:
        parse_rest_message(body)
    assert refused.value.status == 403
    assert parse_rest_message(json.dumps({"sender": "anon", "message": "hi"}).encode())["sender"] == "anon"
