"""The processes that make up a running assistant, configured from the environment.

One definition serves `citybot run` (what a city starts) and the end-to-end
tests (what is checked), so the two cannot drift apart.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.open311.models import DEV_API_KEY
from bot.procs import PROJECT_ROOT, ManagedProcess, venv_bin

DEFAULT_OPEN311_PATH = "/open311/v2"


@dataclass
class StackConfig:
    """Ports, storage and back office of one running assistant."""

    rasa_port: int = 5005
    action_port: int = 5055
    open311_port: int = 8311
    var_dir: Path = PROJECT_ROOT / "var"
    model_path: Path = PROJECT_ROOT / "models"
    open311_url: Optional[str] = None  # None: start and use the reference server
    database_url: Optional[str] = None  # None: SQLite files in var_dir
    extra_env: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "StackConfig":
        """Settings a city gives through environment variables (see README)."""
        return cls(
            rasa_port=int(os.environ.get("RASA_PORT", 5005)),
            action_port=int(os.environ.get("ACTION_PORT", 5055)),
            open311_port=int(os.environ.get("OPEN311_PORT", 8311)),
            var_dir=Path(os.environ.get("CITYBOT_VAR_DIR", PROJECT_ROOT / "var")),
            model_path=Path(os.environ.get("RASA_MODEL", PROJECT_ROOT / "models")),
            open311_url=os.environ.get("OPEN311_URL") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
        )

    @property
    def uses_reference_open311(self) -> bool:
        return self.open311_url is None

    @property
    def effective_open311_url(self) -> str:
        return self.open311_url or f"http://127.0.0.1:{self.open311_port}{DEFAULT_OPEN311_PATH}"

    def tracker_env(self) -> Dict[str, str]:
        """Environment for endpoints.yml's SQL tracker store."""
        if self.database_url:
            dialect = self.database_url.split(":", 1)[0].split("+", 1)[0]
            return {"TRACKER_DIALECT": dialect, "TRACKER_URL": self.database_url, "TRACKER_DB": ""}
        db = self.var_dir / "rasa.db"
        return {"TRACKER_DIALECT": "sqlite", "TRACKER_URL": f"sqlite:///{db}", "TRACKER_DB": str(db)}

    def shared_env(self) -> Dict[str, str]:
        """Environment every process gets: where the back office and actions are."""
        env = {
            "OPEN311_URL": self.effective_open311_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            # Two cores: one TensorFlow thread pool per process is plenty.
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "CITYBOT_VAR_DIR": str(self.var_dir),
        }
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.uses_reference_open311:
            # The reference server accepts the key the assistant files with.
            key = os.environ.get("OPEN311_API_KEY") or DEV_API_KEY
            env.update({"OPEN311_API_KEY": key, "OPEN311_API_KEYS": key})
        env.update(self.tracker_env())
        env.update(self.extra_env)
        return env


def open311_process(config: StackConfig) -> ManagedProcess:
    """The reference Open311 server, for a city without a back office of its own."""
    return ManagedProcess(
        name="open311",
        argv=[
            sys.executable, "-m", "bot.open311",
            "--host", "127.0.0.1",
            "--port", str(config.open311_port),
            "--db", str(config.var_dir / "open311.db"),
        ],
        ready_url=f"http://127.0.0.1:{config.open311_port}{DEFAULT_OPEN311_PATH}/services.json",
        log_path=config.var_dir / "logs" / "open311.log",
        env=config.shared_env(),
    )


def action_process(config: StackConfig) -> ManagedProcess:
    """The Rasa SDK action server running `actions/`."""
    return ManagedProcess(
        name="actions",
        argv=[venv_bin("rasa"), "run", "actions", "--port", str(config.action_port), "--actions", "actions"],
        ready_url=f"http://127.0.0.1:{config.action_port}/health",
        log_path=config.var_dir / "logs" / "actions.log",
        env=config.shared_env(),
    )


def rasa_process(config: StackConfig) -> ManagedProcess:
    """The Rasa server: NLU, dialogue, and the input channels."""
    return ManagedProcess(
        name="rasa",
        argv=[
            venv_bin("rasa"), "run",
            "--enable-api",
            "--port", str(config.rasa_port),
            "--model", str(config.model_path),
            "--endpoints", "endpoints.yml",
            "--credentials", "credentials.yml",
            "--cors", "*",
        ],
        ready_url=f"http://127.0.0.1:{config.rasa_port}/status",
        log_path=config.var_dir / "logs" / "rasa.log",
        env=config.shared_env(),
    )


def worker_process(config: StackConfig) -> ManagedProcess:
    """Delivers the report outbox and sends status updates."""
    return ManagedProcess(
        name="worker",
        argv=[sys.executable, "-m", "bot.worker"],
        ready_url=None,
        log_path=config.var_dir / "logs" / "worker.log",
        env=config.shared_env(),
    )


def stack_processes(config: StackConfig) -> List[ManagedProcess]:
    """Every process the assistant needs, in start order."""
    processes = [open311_process(config)] if config.uses_reference_open311 else []
    return processes + [action_process(config), rasa_process(config), worker_process(config)]
