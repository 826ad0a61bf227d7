"""Every door of the running assistant: the Rasa API, the REST channel and the action server.

Tried the way a city's security review would, over real HTTP against the
stack `make run` starts (the session `stack` fixture).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import time
import uuid
from typing import Any, Dict, Iterator

import httpx
import pytest

from bot.channels.identity import sender_id_for
from bot.process.procs import free_port, port_free, stop_all
from bot.process.stack_processes import action_process
from tests.support.conversation import Conversation
from tests.support.stack import RASA_API_TOKEN, RunningStack

pytestmark = pytest.mark.e2e

# Every route of Rasa's HTTP API that acts on a conversation or the model (rasa/server.py).
API_ROUTES = [
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("GET", "/conversations/{sender}/tracker", None),
    ("POST", "/conversations/{sender}/tracker/events", {"event": "pause"}),
    ("PUT", "/conversations/{sender}/tracker/events", [{"event": "pause"}]),
    ("GET", "/conversations/{sender}/story", None),
    ("POST", "/conversations/{sender}/execute", {"name": "utter_greet"}),
    ("POST", "/conversations/{sender}/trigger_intent?output_channel=latest", {"name": "greet"}),
    ("POST", "/conversations/{sender}/predict", None),
    ("POST", "/conversations/{sender}/messages", {"text": "hello", "sender": "user"}),
    ("POST", "/model/train", {}),
    ("POST", "/model/test/intents", {}),
    ("POST", "/model/parse", {"text": "hello"}),
    ("PUT", "/model", {"model_file": "/tmp/nothing.tar.gz"}),
    ("DELETE", "/model", None),
]


def rasa(stack) -> str:
    return f"http://127.0.0.1:{stack.rasa_port}"


def call(method: str, url: str, body: Any = None, **params: str) -> httpx.Response:
    return httpx.request(method, url, json=body, params=params, timeout=60)


@pytest.fixture
def resident(stack) -> Conversation:
    talk = Conversation(stack.rasa_port)
    talk.say("hello")
    return talk


@pytest.mark.parametrize("method,route,body", API_ROUTES, ids=[f"{m} {r}" for m, r, _ in API_ROUTES])
def test_without_the_token_no_api_route_answers_and_nothing_changes(stack, resident, method, route, body):
    before = resident.tracker()
    url = rasa(stack) + route.format(sender=resident.sender)
    for wrong in ({}, {"token": "guess"}, {"token": RASA_API_TOKEN[:-1]}):
        answer = call(method, url, body, **wrong)
        assert answer.status_code in (401, 403), (route, answer.status_code, answer.text[:200])
    assert resident.tracker()["events"] == before["events"]  # not paused, not rewritten, not triggered


def test_outside_the_public_paths_nothing_answers_a_stranger(stack):
    for path in ("/", "/version", "/no-such-page", "/webhooksx", "/chatty", "/faqs"):
        assert httpx.get(rasa(stack) + path, timeout=30).status_code == 401, path
    assert httpx.get(rasa(stack) + "/version", params={"token": RASA_API_TOKEN}, timeout=30).status_code == 200
    for path in ("/chat", "/chat/embed.js", "/webhooks/rest/", "/webhooks/telegram/", "/webhooks/twilio/"):
        assert httpx.get(rasa(stack) + path, timeout=30).status_code == 200, path


def test_with_the_token_the_api_answers(stack, resident):
    tracker = call("GET", rasa(stack) + f"/conversations/{resident.sender}/tracker", token=RASA_API_TOKEN)
    assert tracker.status_code == 200 and tracker.json()["sender_id"] == resident.sender
    assert call("GET", rasa(stack) + "/status", token=RASA_API_TOKEN).status_code == 200


def test_no_origin_is_allowed_to_read_the_api_or_the_channels(stack):
    origin = {"Origin": "https://attacker.example"}
    for route in ("/status", "/webhooks/rest/webhook", "/conversations/x/tracker"):
        for method in ("OPTIONS", "GET"):
            headers = {**origin, "Access-Control-Request-Method": "GET"}
            answer = httpx.request(method, rasa(stack) + route, headers=headers, timeout=30)
            assert "access-control-allow-origin" not in answer.headers, (method, route)
            assert "access-control-allow-credentials" not in answer.headers


def rest(stack, body: Any, token: str = RASA_API_TOKEN, raw: bytes = b"") -> httpx.Response:
    content = raw or json.dumps(body).encode()
    return httpx.post(
        f"{rasa(stack)}/webhooks/rest/webhook",
        content=content,
        params={"token": token},
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def test_the_rest_channel_needs_the_token(stack):
    body = {"sender": f"resident-{uuid.uuid4().hex[:8]}", "message": "hello"}
    assert rest(stack, body, token="").status_code == 401
    assert rest(stack, body, token="wrong").status_code == 401
    bearer = httpx.post(
        f"{rasa(stack)}/webhooks/rest/webhook",
        json=body,
        timeout=60,
        headers={"Authorization": f"Bearer {RASA_API_TOKEN}"},
    )
    assert bearer.status_code == 200 and bearer.json()


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram", "webchat"])
def test_rest_cannot_reach_a_conversation_of_another_channel(stack, channel):
    sender = sender_id_for(channel, "+15550104242" if channel in ("sms", "whatsapp") else "424242")
    answer = rest(stack, {"sender": sender, "message": "hello"})
    assert answer.status_code == 403
    tracker = call("GET", rasa(stack) + f"/conversations/{sender}/tracker", token=RASA_API_TOKEN).json()
    assert not [e for e in tracker["events"] if e["event"] == "user"]  # the message never reached it


MALFORMED_REST = {
    "empty": b"",
    "null": b"null",
    "list": b"[]",
    "bare string": b'"hello"',
    "number message": b'{"sender": "resident-x", "message": 5}',
    "no sender": b'{"message": "hello"}',
    "object sender": b'{"sender": {"id": 1}, "message": "hello"}',
    "lone surrogate sender": b'{"sender": "\\ud800", "message": "hello"}',
    "lone surrogate message": b'{"sender": "resident-x", "message": "\\udfff hi"}',
    "list metadata": b'{"sender": "resident-x", "message": "hi", "metadata": [1]}',
    "not json": b"{sender: resident}",
    "deep nesting": b'{"sender": "resident-x", "message": "hi", "metadata": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
}


@pytest.mark.parametrize("name", sorted(MALFORMED_REST))
def test_a_malformed_rest_body_is_a_400(stack, name):
    answer = rest(stack, None, raw=MALFORMED_REST[name] or b" ")
    assert answer.status_code == 400, answer.text[:200]
    assert "error" in answer.json()


def test_an_oversized_message_is_refused_at_once(stack):
    sender = f"resident-{uuid.uuid4().hex[:8]}"
    for size in (2001, 100_000, 1_100_000):
        started = time.monotonic()
        answer = rest(stack, {"sender": sender, "message": "x" * size})
        assert answer.status_code == 413 and time.monotonic() - started < 1.0, size
    tracker = call("GET", rasa(stack) + f"/conversations/{sender}/tracker", token=RASA_API_TOKEN).json()
    assert not [e for e in tracker["events"] if e["event"] == "user"]


def test_nothing_a_resident_wrote_reaches_the_rasa_log(stack):
    secret = f"my neighbour {uuid.uuid4().hex} keeps parking on the sidewalk"
    talk = Conversation(stack.rasa_port)
    talk.say(secret)
    assert rest(stack, {"sender": talk.sender, "message": secret + "x" * 3000}).status_code == 413
    assert rest(stack, {"sender": talk.sender, "message": 5, "x": secret}).status_code == 400
    time.sleep(0.5)
    log = (stack.var_dir / "logs" / "rasa.log").read_text(errors="replace")
    assert secret.split()[2] not in log and talk.sender not in log and RASA_API_TOKEN not in log


# --- the action server ------------------------------------------------------------
# The stack's Rasa server runs the actions itself (no action server, nothing to
# reach); a city that sets ACTIONS_IN_PROCESS=0 runs this one, as `make run` would.


@pytest.fixture(scope="module")
def action_server(stack) -> Iterator[RunningStack]:
    """The action server alone, filing with the stack's back office and its database."""
    config = dataclasses.replace(stack.config, action_port=free_port(), actions_in_process=False)
    process = action_process(config)
    process.start()
    try:
        process.wait_ready(120)
        yield RunningStack(config, [process])
    finally:
        stop_all([process])


def action_url(stack, **params: str) -> str:
    return f"http://127.0.0.1:{stack.action_port}/webhook" + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


def forged_report() -> Dict[str, Any]:
    """A hand-built call of action_submit_report, the way an attacker would write one."""
    return {
        "next_action": "action_submit_report",
        "sender_id": "forger",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "forger",
            "slots": {
                "service_code": "POTHOLE",
                "location": "1 Forged Street",
                "description": "forged",
                "confirm": True,
            },
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}},
            "events": [],
            "active_loop": {},
        },
        "domain": {},
    }


def filed(stack) -> int:
    return len(httpx.get(f"{stack.effective_open311_url}/requests.json", timeout=10).json())


def test_a_forged_action_call_is_refused_and_files_nothing(action_server):
    before = filed(action_server)
    for url in (action_url(action_server), action_url(action_server, token="guess")):
        answer = httpx.post(url, json=forged_report(), timeout=30)
        assert answer.status_code == 401
        assert "forged" not in answer.text
    listed = httpx.get(f"http://127.0.0.1:{action_server.action_port}/actions", timeout=30)
    assert listed.status_code == 401
    time.sleep(2)  # the worker would have filed by now
    assert filed(action_server) == before


MALFORMED_ACTION_CALLS = {
    "empty": b"",
    "not json": b"{nope",
    "list": b"[]",
    "null": b"null",
    "no tracker": b'{"next_action": "action_submit_report"}',
    "tracker list": b'{"next_action": "action_submit_report", "tracker": []}',
    "events object": b'{"next_action": "action_status", "tracker": {"sender_id": "x", "events": {}}}',
    "number action": b'{"next_action": 7, "tracker": {"sender_id": "x"}}',
}


@pytest.mark.parametrize("name", sorted(MALFORMED_ACTION_CALLS))
def test_a_malformed_action_call_is_a_400_without_echo_or_traceback(action_server, name):
    body = MALFORMED_ACTION_CALLS[name]
    token = action_server.config.shared_env()["ACTION_SERVER_TOKEN"]
    answer = httpx.post(
        action_url(action_server, token=token), content=body, timeout=30, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text[:300]
    assert set(answer.json()) == {"error"} and "Traceback" not in answer.text
    assert (body.decode() not in answer.text) if len(body) > 4 else True


def test_the_action_server_answers_rasa_with_the_token(action_server):
    # A conversation through it: tests/e2e/test_supervised_stack.py.
    token = action_server.config.shared_env()["ACTION_SERVER_TOKEN"]
    listed = httpx.get(f"http://127.0.0.1:{action_server.action_port}/actions", params={"token": token}, timeout=30)
    assert listed.status_code == 200 and {"name": "action_submit_report"} in listed.json()


def test_with_the_actions_in_the_rasa_server_no_action_server_listens(stack):
    assert stack.runs_actions_in_rasa and "actions" not in [process.name for process in stack.processes]
    assert port_free(stack.action_port)
    talk = Conversation(stack.rasa_port)  # the report form's questions come from the actions all the same
    assert "?" in talk.text("I want to report a pothole"), talk.transcript


def non_loopback_address() -> str:
    """An address of this machine other than 127.0.0.1, or "" when it has none."""
    output = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((address for address in output if ":" not in address and not address.startswith("127.")), "")


def test_the_action_server_listens_on_loopback_only(action_server):
    listeners = subprocess.run(["ss", "-ltnH", f"sport = :{action_server.action_port}"], capture_output=True, text=True)
    if listeners.returncode == 0:
        local = {line.split()[3] for line in listeners.stdout.splitlines() if line.strip()}
        assert local == {f"127.0.0.1:{action_server.action_port}"}, local
    address = non_loopback_address()
    if address:
        with pytest.raises(OSError), socket.create_connection((address, action_server.action_port), timeout=3):
            pass
