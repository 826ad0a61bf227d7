"""The action server's guard on its own, without a running server (the e2e security tests call it over HTTP)."""

from __future__ import annotations

import json
import zlib
from typing import Any, Dict

import pytest
from sanic.compat import Header
from sanic.request import Request

from bot.rasa_ext.action_server import create_app

CALL: Dict[str, Any] = {"next_action": "action_listen", "sender_id": "x", "tracker": {"sender_id": "x", "events": []}}


@pytest.fixture(scope="module")
def app():
    return create_app("actions", "secret")


async def guarded(app, body: bytes, **headers: str) -> Request:
    request = Request(
        b"/webhook?token=secret", Header({"content-type": "application/json", **headers}), "1.1", "POST", None, app
    )
    request.body = body
    for middleware in app.request_middleware:
        assert await middleware(request) is None  # let through
    return request


async def test_a_call_is_decoded_once_for_the_guard_and_the_sdk(app) -> None:
    request = await guarded(app, json.dumps(CALL).encode())
    assert request.parsed_json == CALL  # what the SDK's webhook reads as `request.json`


async def test_a_deflated_call_is_left_to_the_sdk_to_decompress(app) -> None:
    request = await guarded(app, zlib.compress(json.dumps(CALL).encode()), **{"content-encoding": "deflate"})
    assert request.parsed_json is None
