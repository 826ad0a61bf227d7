"""No dangerous defaults once the assistant is public (PUBLIC_URL https).

The real processes are started as `make run` (and a systemd unit) starts them:
each refuses to start on the development CITYBOT_SECRET_KEY, and, with a real
key, the Rasa server's public routes and the staff console send HSTS. The key
check itself is tested in tests/unit/channels/test_identity.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest

from bot.process.procs import ManagedProcess, free_port, stop_all
from bot.process.stack import StackConfig
from bot.process.stack_processes import console_process, rasa_process, worker_process
from bot.web.hsts import HSTS_HEADER, HSTS_VALUE
from tests.support.production import DEV_KEY, PUBLIC_HTTPS
from tests.support.stack import RASA_API_TOKEN

pytestmark = pytest.mark.e2e


def https_config(tmp_path: Path, model: Path, **env: str) -> StackConfig:
    """A stack configured as in production: https PUBLIC_URL, its own ports and storage."""
    return StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=tmp_path,
        model_path=model,
        extra_env={
            "PUBLIC_URL": PUBLIC_HTTPS,
            "RASA_API_TOKEN": RASA_API_TOKEN,
            "CONSOLE_PORT": str(free_port()),
            **env,
        },
    )


# --- the secret key ---------------------------------------------------------------


@pytest.mark.parametrize("key", [None, DEV_KEY])
def test_every_process_using_the_key_refuses_to_start(tmp_path, trained_model, monkeypatch, key):
    """The Rasa server, the worker and the staff console each fail fast, naming the variable."""
    monkeypatch.delenv("CITYBOT_SECRET_KEY", raising=False)
    config = https_config(tmp_path, trained_model, **({"CITYBOT_SECRET_KEY": key} if key else {}))
    processes = [rasa_process(config), worker_process(config), console_process(config)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            assert exit_code(process, timeout=240) not in (None, 0), process.log_tail()
            assert "CITYBOT_SECRET_KEY" in process.log_tail(), process.log_tail()
    finally:
        stop_all(processes)


def exit_code(process: ManagedProcess, timeout: float) -> "int | None":
    assert process.popen is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.popen.poll() is None:
        time.sleep(0.5)
    return process.popen.poll()


# --- HSTS -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def https_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Dict[str, int]]:
    """The Rasa server and the staff console started behind an https PUBLIC_URL with a real key."""
    config = https_config(
        tmp_path_factory.mktemp("https-var"), trained_model, CITYBOT_SECRET_KEY="a-real-long-random-secret"
    )
    processes: List[ManagedProcess] = [rasa_process(config), console_process(config)]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready(300)
        yield {"rasa": config.rasa_port, "console": int(config.extra_env["CONSOLE_PORT"])}
    finally:
        stop_all(processes)


PUBLIC_ROUTES = [
    ("GET", "/chat"),
    ("GET", "/chat/embed.js"),
    ("GET", "/faq/cooling_warming_centers"),
    ("GET", "/faq/no_such_topic"),  # a 404 page
    ("GET", "/webhooks/telegram/"),
    ("POST", "/webhooks/telegram/webhook"),  # refused (403): no secret token
    ("POST", "/webhooks/twilio/webhook"),  # refused: no signature
    ("GET", "/webhooks/webchat/history?session=not-a-uuid"),  # 400
    ("GET", "/no/such/route"),  # Sanic's own 404
]


@pytest.mark.parametrize("method, path", PUBLIC_ROUTES)
def test_rasa_server_responses_carry_hsts_over_https(https_stack, method, path):
    answer = httpx.request(method, f"http://127.0.0.1:{https_stack['rasa']}{path}", timeout=30)
    assert answer.headers.get(HSTS_HEADER) == HSTS_VALUE, (answer.status_code, dict(answer.headers))


def test_the_staff_console_carries_hsts_over_https(https_stack):
    for path in ("/console/health", "/console", "/console/login"):
        answer = httpx.get(f"http://127.0.0.1:{https_stack['console']}{path}", timeout=30)
        assert answer.headers.get(HSTS_HEADER) == HSTS_VALUE, (path, answer.status_code)


def test_no_hsts_on_a_plain_http_deployment(stack):
    """A local run over http must not pin browsers to https for 127.0.0.1."""
    for path in ("/chat", "/faq/cooling_warming_centers", "/webhooks/telegram/"):
        answer = httpx.get(f"http://127.0.0.1:{stack.rasa_port}{path}", timeout=30)
        assert HSTS_HEADER not in answer.headers, path
