"""`citybot run` on a further machine starts only the processes named in CITYBOT_PROCESSES."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import chosen_processes
from bot.stack import StackConfig, stack_processes


def scaled_config(tmp_path: Path) -> StackConfig:
    return StackConfig(
        rasa_port=5005, action_port=5055, open311_port=8311, var_dir=tmp_path, model_path=tmp_path,
        database_url="postgresql://127.0.0.1/citybot", extra_rasa_ports=[5006],
        extra_env={"REDIS_URL": "redis://127.0.0.1:6379/0"},
    )


def test_all_processes_without_a_choice(tmp_path: Path):
    processes = stack_processes(scaled_config(tmp_path))
    assert [p.name for p in chosen_processes(processes, None)] == [
        "open311", "actions", "rasa", "rasa-2", "worker", "console"
    ]


def test_a_further_machine_runs_actions_and_every_rasa_server(tmp_path: Path):
    processes = stack_processes(scaled_config(tmp_path))
    assert [p.name for p in chosen_processes(processes, "actions, rasa")] == ["actions", "rasa", "rasa-2"]


def test_an_unknown_name_is_refused(tmp_path: Path):
    with pytest.raises(SystemExit, match="unknown nlu"):
        chosen_processes(stack_processes(scaled_config(tmp_path)), "rasa,nlu")
