"""`citybot run` keeps the assistant up: real servers are killed and must come back, alone.

The servers are the stack's own (bot.process.stack_processes): the reference Open311 server and
the action server with two Sanic workers. The Rasa server is left out (it
loads for a minute); the supervision does not depend on which server it is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from bot.process.procs import PROJECT_ROOT, ManagedProcess, free_port, group_members, port_free
from bot.process.stack import StackConfig
from bot.process.stack_processes import action_process, open311_process
from bot.process.supervisor import RestartPolicy, Supervisor
from tests.support.supervisor import FAST, Running, answers, eventually, listeners, server_pid, supervised

# What the SDK's action server reads (rasa_sdk.constants.ENV_SANIC_WORKERS).
TWO_ACTION_WORKERS = {"ACTION_SERVER_SANIC_WORKERS": "2"}


def stack_config(tmp_path: Path) -> StackConfig:
    return StackConfig(open311_port=free_port(), action_port=free_port(), var_dir=tmp_path, model_path=tmp_path)


def action_server_with_workers(config: StackConfig) -> ManagedProcess:
    """The stack's action server with two Sanic workers: a main process and two children sharing the port."""
    process = action_process(config)
    process.env.update(TWO_ACTION_WORKERS)
    return process


def test_a_server_killed_with_sigkill_is_restarted_and_answers_again(tmp_path: Path):
    config = stack_config(tmp_path)
    open311 = open311_process(config)
    with supervised([open311, action_process(config)]) as running:
        first = server_pid(open311)
        os.kill(first, signal.SIGKILL)
        eventually(lambda: running.lines("open311 was killed by signal 9; restarting"), 10, running.said)
        eventually(lambda: running.lines("open311 is ready again"), 30, running.said)
        assert answers(open311.ready_url) and server_pid(open311) != first
    assert running.result == [0]


def test_a_process_that_keeps_dying_makes_the_supervisor_give_up_and_stop_the_others(tmp_path: Path):
    config = stack_config(tmp_path)
    open311 = open311_process(config)
    flaky = ManagedProcess(
        name="flaky",
        argv=[sys.executable, "-c", "import time; time.sleep(2.5); raise SystemExit(3)"],
        ready_url=None,
        log_path=tmp_path / "logs" / "flaky.log",
    )
    policy = RestartPolicy(first_delay=0.1, max_delay=0.2, max_restarts=2, window=600.0, poll_interval=0.1)
    running = Running(Supervisor([open311, flaky], policy=policy))
    running.thread.start()
    running.thread.join(45)
    assert not running.thread.is_alive(), running.said
    assert running.result == [1]
    assert len(running.lines("flaky exited with code 3; restarting")) == 2
    assert running.lines("flaky exited with code 3; it was restarted 2 times .* giving up")
    assert group_members(open311.popen.pid) == [] and port_free(config.open311_port)


def test_a_sanic_server_killed_with_workers_comes_back_as_exactly_one_listener(tmp_path: Path):
    config = stack_config(tmp_path)
    actions = action_server_with_workers(config)
    with supervised([actions]) as running:
        old_group = actions.popen.pid
        eventually(lambda: len(group_members(old_group)) == 4, 20, "guard, main process and two workers")
        assert len(listeners(config.action_port)) == 1
        os.kill(server_pid(actions), signal.SIGKILL)  # its two workers go on serving the port
        eventually(lambda: running.lines("actions is ready again"), 60, running.said)
        new_group = actions.popen.pid
        assert new_group != old_group and group_members(old_group) == []
        eventually(lambda: len(group_members(new_group)) == 4, 20, "the new workers")
        sockets = listeners(config.action_port)
        assert len(sockets) == 1 and sockets[0] <= set(group_members(new_group)), sockets
        assert answers(actions.ready_url)


def test_nothing_survives_citybot_run_killed_with_sigkill(tmp_path: Path):
    config = stack_config(tmp_path)
    env = {
        **{key: value for key, value in os.environ.items() if key not in ("OPEN311_URL", "REDIS_URL", "DATABASE_URL")},
        "CITYBOT_PROCESSES": "open311,actions",
        "ACTIONS_IN_PROCESS": "0",  # an action server of its own, with its two workers
        "CITYBOT_VAR_DIR": str(tmp_path),
        "OPEN311_PORT": str(config.open311_port),
        "ACTION_PORT": str(config.action_port),
        **TWO_ACTION_WORKERS,
    }
    output = tmp_path / "citybot-run.out"
    with output.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "bot.process.cli", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    groups: List[int] = []
    try:
        eventually(lambda: "The assistant is up" in output.read_text(), 90, "citybot run is up")
        groups = [int(pid) for pid in Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()]
        assert len(groups) == 2
        assert len(group_members(groups[1])) == 4  # the action server's guard, main process, two workers
        os.kill(run.pid, signal.SIGKILL)
        run.wait(5)
        eventually(lambda: not any(group_members(group) for group in groups), 15, "every group gone")
        assert port_free(config.open311_port) and port_free(config.action_port)
        assert listeners(config.open311_port) == [] and listeners(config.action_port) == []
    finally:
        for group in [run.pid, *groups]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        run.wait(5)


def test_stop_takes_down_workers_whose_main_process_is_already_dead(tmp_path: Path):
    config = stack_config(tmp_path)
    actions = action_server_with_workers(config)  # not guarded: as the end-to-end tests start it
    actions.start()
    try:
        actions.wait_ready(60)
        eventually(lambda: len(group_members(actions.popen.pid)) == 3, 20, "main process and two workers")
        os.kill(actions.popen.pid, signal.SIGKILL)
        actions.popen.wait(5)
        assert len(group_members(actions.popen.pid)) == 2 and not port_free(config.action_port)
        actions.stop()
        assert group_members(actions.popen.pid) == [] and port_free(config.action_port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(actions.popen.pid, signal.SIGKILL)


def test_ctrl_c_while_a_process_is_still_starting_stops_it_at_once(tmp_path: Path):
    port = free_port()
    never_ready = ManagedProcess(
        name="slow",
        argv=[sys.executable, "-c", "import time; time.sleep(300)"],
        ready_url=f"http://127.0.0.1:{port}/health",
        log_path=tmp_path / "slow.log",
    )
    running = Running(Supervisor([never_ready], policy=FAST))
    running.thread.start()
    eventually(never_ready.is_running, 10, "slow started")
    running.supervisor.request_stop()
    running.thread.join(10)
    assert not running.thread.is_alive() and running.result == [0]
    assert group_members(never_ready.popen.pid) == [] and not running.lines("is ready")


@pytest.mark.parametrize("restarts, delay", [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (9, 30.0)])
def test_the_restart_delay_doubles_up_to_thirty_seconds(restarts: int, delay: float):
    assert RestartPolicy().delay(restarts) == delay
