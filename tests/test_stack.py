"""Which lock store and how many worker processes each setup gets (bot/stack.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.stack import DATABASE_LOCK_STORE, FILE_LOCK_STORE, REDIS_LOCK_STORE, StackConfig, rasa_process


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "DATABASE_URL", "RASA_WORKERS", "ACTION_WORKERS", "RASA_PROCESSES"):
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
    assert two.lock_env() == {"LOCK_STORE_TYPE": FILE_LOCK_STORE, "LOCK_STORE_URL": str(tmp_path / "conversation-locks")}
    assert rasa_process(two).env["SANIC_WORKERS"] == "2" and two.rasa_ports() == [5005, 5006]
    assert not two.scales_out
    assert two.tracker_env()["TRACKER_SHARED"] == "1"
    on_postgres = config(tmp_path, rasa_workers=2, database_url="postgresql://127.0.0.1/citybot")
    assert on_postgres.lock_env()["LOCK_STORE_URL"] == "postgresql://127.0.0.1/citybot"


def test_with_redis_every_process_locks_in_redis(tmp_path: Path):
    scaled = config(tmp_path, rasa_workers=2, database_url="postgresql://127.0.0.1/citybot",
                    extra_env={"REDIS_URL": "redis://127.0.0.1:6379/0"})
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
    from bot import locks, stack

    assert stack.LOCK_FILE_NAME == locks.LOCK_FILE_NAME
