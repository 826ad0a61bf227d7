"""`citybot run` on a further machine starts only the processes named in CITYBOT_PROCESSES; `citybot serve` runs one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.process.cli import chosen_processes, main
from bot.process.procs import free_port, venv_bin
from bot.process.stack import StackConfig
from bot.process.stack_processes import open311_process, stack_processes
from tests.support.supervisor import answers


def scaled_config(tmp_path: Path, actions_in_process: bool = False) -> StackConfig:
    return StackConfig(
        actions_in_process=actions_in_process,
        rasa_port=5005,
        action_port=5055,
        open311_port=8311,
        var_dir=tmp_path,
        model_path=tmp_path,
        database_url="postgresql://127.0.0.1/citybot",
        extra_rasa_ports=[5006],
        extra_env={"REDIS_URL": "redis://127.0.0.1:6379/0"},
    )


def test_all_processes_without_a_choice(tmp_path: Path):
    processes = stack_processes(scaled_config(tmp_path))
    assert [p.name for p in chosen_processes(processes, None)] == [
        "open311",
        "actions",
        "rasa",
        "rasa-2",
        "worker",
        "console",
    ]


def test_a_further_machine_runs_actions_and_every_rasa_server(tmp_path: Path):
    processes = stack_processes(scaled_config(tmp_path))
    assert [p.name for p in chosen_processes(processes, "actions, rasa")] == ["actions", "rasa", "rasa-2"]


def test_actions_in_the_rasa_server_start_no_action_server(tmp_path: Path):
    processes = stack_processes(scaled_config(tmp_path, actions_in_process=True))
    assert [p.name for p in processes] == ["open311", "rasa", "rasa-2", "worker", "console"]
    with pytest.raises(SystemExit, match="ACTIONS_IN_PROCESS=0"):
        chosen_processes(processes, "actions,rasa")


def test_an_unknown_name_is_refused(tmp_path: Path):
    with pytest.raises(SystemExit, match="unknown nlu"):
        chosen_processes(stack_processes(scaled_config(tmp_path)), "rasa,nlu")


def test_serve_becomes_the_stacks_process_itself(tmp_path: Path):
    """`citybot serve open311` (what the systemd unit runs) execs exactly the argv `citybot run` starts."""
    config = StackConfig(open311_port=free_port(), var_dir=tmp_path)
    expected = open311_process(config)
    env = {**os.environ, "OPEN311_PORT": str(config.open311_port), "CITYBOT_VAR_DIR": str(tmp_path)}
    env.pop("OPEN311_URL", None)
    served = subprocess.Popen(
        [venv_bin("citybot"), "serve", "open311"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(expected.ready_url):
            assert served.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        assert Path(f"/proc/{served.pid}/cmdline").read_bytes().split(b"\0")[:-1] == [
            arg.encode() for arg in expected.argv
        ]
        assert Path(f"/proc/{served.pid}/cwd").resolve() == expected.cwd
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(15)


def test_serve_refuses_an_unknown_process():
    result = subprocess.run([venv_bin("citybot"), "serve", "nlu"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "unknown process nlu" in result.stderr


def test_serve_actions_says_the_rasa_server_runs_them(tmp_path: Path):
    env = {**os.environ, "CITYBOT_VAR_DIR": str(tmp_path)}
    env.pop("ACTIONS_IN_PROCESS", None)
    env.pop("ACTION_ENDPOINT_URL", None)
    result = subprocess.run(
        [venv_bin("citybot"), "serve", "actions"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode != 0 and "ACTIONS_IN_PROCESS=0" in result.stderr


def test_open311_takes_the_servers_options_as_the_readme_shows(tmp_path: Path):
    """`citybot open311 --port 8311 --db var/open311.db` (README) serves on that port from that file."""
    port = free_port()
    db = tmp_path / "open311.db"
    served = subprocess.Popen(
        [sys.executable, "-m", "bot.process.cli", "open311", "--port", str(port), "--db", str(db)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(f"http://127.0.0.1:{port}/open311/v2/services.json"):
            assert served.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        assert db.exists()
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(15)


def test_options_a_command_does_not_take_are_still_refused(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--port", "8311"])
    assert exit_info.value.code == 2 and "unrecognized arguments: --port 8311" in capsys.readouterr().err
