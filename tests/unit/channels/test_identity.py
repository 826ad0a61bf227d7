"""A public assistant (PUBLIC_URL https) refuses the development CITYBOT_SECRET_KEY; a local run needs none."""

from __future__ import annotations

import pytest

from bot.channels import identity
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
