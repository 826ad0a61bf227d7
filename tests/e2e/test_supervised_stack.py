"""The whole stack under `citybot run`'s supervisor: any server killed with SIGKILL comes back by itself.

The Rasa server runs with two Sanic workers, as `make run` starts it: killing
its main process leaves the workers holding the port unless their whole group
is taken down. After each kill the assistant must answer a resident again
within 30 seconds, with exactly one listening socket per port.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Iterator, Tuple

import httpx
import pytest

from bot.process.procs import ManagedProcess, free_port, group_members
from bot.process.stack import StackConfig
from bot.process.stack_processes import action_process, open311_process, rasa_process
from tests.support.stack import RASA_API_TOKEN
from tests.support.supervisor import Running, eventually, listeners, server_pid, supervised

pytestmark = pytest.mark.e2e

BACK_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def supervised_stack(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tuple[Running, StackConfig]]:
    config = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=tmp_path_factory.mktemp("citybot-supervised"),
        model_path=trained_model,
        rasa_workers=2,
        extra_env={"CITYBOT_SECRET_KEY": "test-secret-key", "RASA_API_TOKEN": RASA_API_TOKEN},
        actions_in_process=False,  # the Rasa server calls the action server (ACTIONS_IN_PROCESS=0)
    )
    processes = [open311_process(config), action_process(config), rasa_process(config)]
    with supervised(processes) as running:
        yield running, config


def resident_is_answered(config: StackConfig) -> bool:
    """A city question over the REST channel gets an answer (which needs Rasa and, for the form, actions)."""
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{config.rasa_port}/webhooks/rest/webhook",
            params={"token": RASA_API_TOKEN},
            json={"sender": f"supervised-{uuid.uuid4().hex[:8]}", "message": "I want to report a pothole"},
            timeout=10,
        )
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and "?" in answer.text


def process_named(running: Running, name: str) -> ManagedProcess:
    return next(w.process for w in running.supervisor.watched if w.process.name == name)


@pytest.mark.parametrize("name", ["open311", "actions", "rasa"])
def test_a_killed_server_is_restarted_and_the_assistant_answers_within_30_s(supervised_stack, name: str):
    running, config = supervised_stack
    assert resident_is_answered(config)
    process = process_named(running, name)
    old_group = process.popen.pid
    killed_at = time.monotonic()  # the whole recovery, restart and first answer, fits in 30 s
    os.kill(server_pid(process), signal.SIGKILL)
    ready_again = len(running.lines(f"^{name} is ready again"))
    eventually(
        lambda: len(running.lines(f"^{name} is ready again")) > ready_again,
        BACK_WITHIN_SECONDS,
        f"{name} restarted: {running.said}",
    )
    eventually(
        lambda: resident_is_answered(config),
        BACK_WITHIN_SECONDS - (time.monotonic() - killed_at),
        f"answering again after {name} was killed: {running.said}",
    )
    assert group_members(old_group) == []  # no orphaned worker left
    for port in (config.open311_port, config.action_port, config.rasa_port):
        assert len(listeners(port)) == 1, (port, listeners(port))
