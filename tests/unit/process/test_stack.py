"""Which lock store and how many worker processes each setup gets (bot/process/stack.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.process.stack import FILE_LOCK_STORE, REDIS_LOCK_STORE, StackConfig
from bot.process.stack_processes import action_process, rasa_process, stack_processes


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "REDIS_URL",
        "DATABASE_URL",
        "RASA_WORKERS",
        "ACTION_WORKERS",
        "RASA_PROCESSES",
        "RASA_API_TOKEN",
        "ACTION_SERVER_TOKEN",
        "ACTION_HOST",
        "ACTION_ENDPOINT_URL",
        "ACTIONS_IN_PROCESS",
        "TF_ENABLE_ONEDNN_OPTS",
        "OPENBLAS_NUM_THREADS",
    ):
        monkeypatch.delenv(name, raising=False)


def config(tmp_path: Path, **settings) -> StackConfig:
    return StackConfig(var_dir=tmp_path, model_path=tmp_path, **settings)


def test_one_process_keeps_its_locks_in_memory(tmp_path: Path):
    one = config(tmp_path)
    assert one.lock_env()["LOCK_STORE_TYPE"] == "in_memory"
    assert "SANIC_WORKERS" not in rasa_process(one).env and one.rasa_ports() == [5005]
    assert one.tracker_env()["TRACKER_SHARED"] == "0"  # nobody else writes its conversations


def test_workers_on_one_machine_share_locks_in_a_file_or_the_database(tmp_path: Path):
    two = config(tmp_path, rasa_workers=2, extra_rasa_ports=[5006])
    assert two.lock_env() == {
        "LOCK_STORE_TYPE": FILE_LOCK_STORE,
        "LOCK_STORE_URL": str(tmp_path / "conversation-locks"),
    }
    assert rasa_process(two).env["SANIC_WORKERS"] == "2" and two.rasa_ports() == [5005, 5006]
    actions = action_process(config(tmp_path, rasa_workers=2, action_workers=2))
    assert actions.env["ACTION_SERVER_SANIC_WORKERS"] == "2"  # the variable the SDK reads
    assert not two.scales_out
    assert two.tracker_env()["TRACKER_SHARED"] == "1"
    on_postgres = config(tmp_path, rasa_workers=2, database_url="postgresql://127.0.0.1/citybot")
    assert on_postgres.lock_env()["LOCK_STORE_URL"] == "postgresql://127.0.0.1/citybot"


def test_with_redis_every_process_locks_in_redis(tmp_path: Path):
    scaled = config(
        tmp_path,
        rasa_workers=2,
        database_url="postgresql://127.0.0.1/citybot",
        extra_env={"REDIS_URL": "redis://127.0.0.1:6379/0"},
    )
    assert scaled.lock_env()["LOCK_STORE_TYPE"] == REDIS_LOCK_STORE and scaled.scales_out


def test_stock_rasa_stays_one_process_without_redis(tmp_path: Path):
    stock = config(tmp_path, rasa_workers=2, extra_rasa_ports=[5006], tuned=False)
    assert stock.lock_env()["LOCK_STORE_TYPE"] == "in_memory"
    assert "SANIC_WORKERS" not in rasa_process(stock).env and stock.rasa_ports() == [5005]


def test_workers_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert StackConfig.from_env().rasa_workers == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    default = StackConfig.from_env()  # two Rasa workers sharing locks in a file, one action server
    assert default.rasa_workers == 2 and default.action_workers == 1
    assert default.lock_env()["LOCK_STORE_TYPE"] == FILE_LOCK_STORE
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1/citybot")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert StackConfig.from_env().rasa_workers == StackConfig.from_env().action_workers == 8
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("RASA_WORKERS", "3")
    monkeypatch.setenv("RASA_PROCESSES", "2")
    chosen = StackConfig.from_env()
    assert chosen.rasa_workers == 3 and chosen.action_workers == 1 and chosen.rasa_ports() == [5005, 5006]


def test_the_stack_and_the_file_lock_store_name_the_same_file():
    from bot.process import stack
    from bot.rasa_ext import locks

    assert stack.LOCK_FILE_NAME == locks.LOCK_FILE_NAME


def test_a_fresh_install_makes_its_tokens_once_readable_by_its_owner_only(tmp_path: Path):
    first = config(tmp_path).shared_env()
    token_file = tmp_path / "rasa-api-token"
    assert first["RASA_API_TOKEN"] == token_file.read_text().strip() and len(first["RASA_API_TOKEN"]) >= 40
    assert first["ACTION_SERVER_TOKEN"] == (tmp_path / "action-server-token").read_text().strip()
    assert first["ACTION_SERVER_TOKEN"] != first["RASA_API_TOKEN"]
    assert token_file.stat().st_mode & 0o777 == 0o600
    again = config(tmp_path).shared_env()  # a restart keeps them; every process gets the same
    assert (again["RASA_API_TOKEN"], again["ACTION_SERVER_TOKEN"]) == (
        first["RASA_API_TOKEN"],
        first["ACTION_SERVER_TOKEN"],
    )
    assert {p.env["RASA_API_TOKEN"] for p in stack_processes(config(tmp_path))} == {first["RASA_API_TOKEN"]}


def test_a_city_given_token_wins_and_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RASA_API_TOKEN", "city-chosen-token")
    assert config(tmp_path).shared_env()["RASA_API_TOKEN"] == "city-chosen-token"
    assert not (tmp_path / "rasa-api-token").exists()


def test_our_rasa_runs_without_onednn_and_stock_keeps_tensorflows_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ours, stock = rasa_process(config(tmp_path)), rasa_process(config(tmp_path, tuned=False))
    assert ours.env["TF_ENABLE_ONEDNN_OPTS"] == "0" and "TF_ENABLE_ONEDNN_OPTS" not in stock.env
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert rasa_process(config(tmp_path)).env["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_our_rasa_runs_one_blas_thread_and_stock_keeps_numpys_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ours, stock = rasa_process(config(tmp_path)), rasa_process(config(tmp_path, tuned=False))
    assert ours.env["OPENBLAS_NUM_THREADS"] == "1" and "OPENBLAS_NUM_THREADS" not in stock.env
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert rasa_process(config(tmp_path)).env["OPENBLAS_NUM_THREADS"] == "2"


def test_the_api_needs_the_token_and_no_origin_is_trusted(tmp_path: Path):
    ours, stock = rasa_process(config(tmp_path)), rasa_process(config(tmp_path, tuned=False))
    token = ours.env["RASA_API_TOKEN"]
    for process in (ours, stock):
        assert "--cors" not in process.argv and "*" not in process.argv
        assert process.ready_url.endswith(f"/status?token={token}")
        assert int(process.env["SANIC_REQUEST_MAX_SIZE"]) <= 1024 * 1024
    assert not any("--auth-token" in arg for arg in ours.argv)  # ours reads RASA_API_TOKEN itself, out of the list
    assert f"--auth-token={token}" in stock.argv


def test_the_action_server_listens_on_loopback_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    actions = action_process(config(tmp_path))
    assert actions.env["SANIC_HOST"] == "127.0.0.1" and "bot.rasa_ext.action_server" in actions.argv
    assert actions.env["ACTION_SERVER_TOKEN"]
    monkeypatch.setenv("ACTION_HOST", "10.0.0.5")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://10.0.0.5:5055/webhook")
    assert action_process(config(tmp_path)).env["SANIC_HOST"] == "10.0.0.5"
    assert config(tmp_path).shared_env()["ACTION_ENDPOINT_URL"] == "http://10.0.0.5:5055/webhook"


def test_the_rasa_server_runs_the_actions_unless_told_or_pointed_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    default = StackConfig.from_env()
    assert default.runs_actions_in_rasa and default.shared_env()["ACTIONS_MODULE"] == "actions"
    assert "actions" not in [p.name for p in stack_processes(default)]
    monkeypatch.setenv("ACTIONS_IN_PROCESS", "0")
    own_server = StackConfig.from_env()
    assert not own_server.runs_actions_in_rasa and own_server.shared_env()["ACTIONS_MODULE"] == ""
    assert "actions" in [p.name for p in stack_processes(own_server)]
    monkeypatch.delenv("ACTIONS_IN_PROCESS")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://10.0.0.5:5055/webhook")  # an action server elsewhere
    assert not StackConfig.from_env().runs_actions_in_rasa
    stock = config(tmp_path, tuned=False)  # stock Rasa has no such thing: its action server runs them
    assert stock.shared_env()["ACTIONS_MODULE"] == "" and "actions" in [p.name for p in stack_processes(stock)]
