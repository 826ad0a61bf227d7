"""The processes that make up a running assistant, configured from the environment.

One definition serves `citybot run` (what a city starts) and the end-to-end
tests (what is checked), so the two cannot drift apart.
"""

from __future__ import annotations

import sys
from typing import Dict, List, Optional

from bot.db.engine import sqlite_url
from bot.db.migrate import upgrade
from bot.process.procs import ManagedProcess, venv_bin
from bot.process.stack import (
    ACTION_MAX_BODY_BYTES,
    ACTIONS_PACKAGE,
    DEFAULT_OPEN311_PATH,
    RASA_MAX_BODY_BYTES,
    STACK_CREDENTIALS,
    STACK_ENDPOINTS,
    StackConfig,
    credential_variables,
)
from bot.rasa_ext.api_tokens import RASA_API_TOKEN
from bot.settings import Settings, settings


def open311_process(config: StackConfig) -> ManagedProcess:
    """The reference Open311 server, for a city without a back office of its own."""
    return ManagedProcess(
        name="open311",
        argv=[
            sys.executable,
            "-m",
            "bot.open311",
            "--host",
            "127.0.0.1",
            "--port",
            str(config.open311_port),
            "--db",
            str(config.var_dir / "open311.db"),
        ],
        ready_url=f"http://127.0.0.1:{config.open311_port}{DEFAULT_OPEN311_PATH}/services.json",
        log_path=config.var_dir / "logs" / "open311.log",
        env=config.shared_env(),
    )


def action_process(config: StackConfig) -> ManagedProcess:
    """The Rasa SDK action server running `actions/`, on the loopback interface unless ACTION_HOST says otherwise.

    Ours (bot.rasa_ext.action_server) also requires the shared token and answers
    malformed calls 400; stock (the benchmark's baseline) is `rasa run actions`.
    """
    action_env = config.server_env(config.action_workers, ACTION_MAX_BODY_BYTES)
    return ManagedProcess(
        name="actions",
        argv=[
            *(
                [sys.executable, "-m", "bot.rasa_ext.action_server"]
                if config.tuned
                else [venv_bin("rasa"), "run", "actions"]
            ),
            "--port",
            str(config.action_port),
            "--actions",
            ACTIONS_PACKAGE,
        ],
        ready_url=f"http://127.0.0.1:{config.action_port}/health",
        log_path=config.var_dir / "logs" / "actions.log",
        env={
            **config.shared_env(),
            **action_env,
            # The SDK reads its own variable for workers, not Sanic's.
            **({"ACTION_SERVER_SANIC_WORKERS": action_env["SANIC_WORKERS"]} if "SANIC_WORKERS" in action_env else {}),
            "SANIC_HOST": settings().action_host,
        },
    )


def rasa_process(config: StackConfig, port: Optional[int] = None, name: str = "rasa") -> ManagedProcess:
    """The Rasa server: NLU, dialogue, and the input channels; its HTTP API only with the token.

    Our server takes the token from the environment (bot.rasa_ext.server), out of
    the process list; stock Rasa (the benchmark's baseline) only from its arguments.
    """
    port = port or config.rasa_port
    token = config.secret(RASA_API_TOKEN)
    return ManagedProcess(
        name=name,
        argv=[
            *([sys.executable, "-m", "bot.rasa_ext.server"] if config.tuned else [venv_bin("rasa")]),
            "run",
            "--enable-api",
            "--port",
            str(port),
            "--model",
            str(config.model_path),
            "--endpoints",
            STACK_ENDPOINTS if config.tuned else "bench/endpoints_stock.yml",
            "--credentials",
            STACK_CREDENTIALS,
            *([] if config.tuned else [f"--auth-token={token}"]),  # one argument: a token may start with "-"
        ],
        ready_url=f"http://127.0.0.1:{port}/status?token={token}",
        log_path=config.var_dir / "logs" / f"{name}.log",
        env={
            **channel_env(settings()),
            **config.shared_env(),
            **config.server_env(config.rasa_workers, RASA_MAX_BODY_BYTES),
        },
    )


def channel_env(config: Settings) -> Dict[str, str]:
    """Every ${VAR} of the stack's credentials.yml, empty when unset: the channel stays off, Rasa starts."""
    return {variable: str(config.get(variable) or "") for variable in credential_variables()}


def worker_process(config: StackConfig) -> ManagedProcess:
    """Delivers the report outbox and sends status updates."""
    return ManagedProcess(
        name="worker",
        argv=[sys.executable, "-m", "bot.process.worker"],
        ready_url=None,
        log_path=config.var_dir / "logs" / "worker.log",
        env=config.shared_env(),
    )


def console_process(config: StackConfig) -> ManagedProcess:
    """The staff console (live handoff to city staff), on CONSOLE_PORT (8080)."""
    env = config.shared_env()
    port = int(env.get("CONSOLE_PORT") or settings().console_port or 8080)
    env.setdefault("RASA_URL", settings().rasa_url or f"http://127.0.0.1:{config.rasa_port}")
    return ManagedProcess(
        name="console",
        argv=[sys.executable, "-m", "bot.handoff.console", "--port", str(port)],
        ready_url=f"http://127.0.0.1:{port}/console/health",
        log_path=config.var_dir / "logs" / "console.log",
        env=env,
    )


def migrate_database(config: StackConfig) -> None:
    """Bring the assistant's database to the newest schema once, before its processes start."""
    config.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(config.database_url or sqlite_url(config.var_dir))


def stack_processes(config: StackConfig) -> List[ManagedProcess]:
    """Every process the assistant needs, in start order."""
    processes = [open311_process(config)] if config.uses_reference_open311 else []
    extra_rasa = [
        rasa_process(config, port=port, name=f"rasa-{index}")
        for index, port in enumerate(config.rasa_ports()[1:], start=2)
    ]
    return (
        processes
        + ([] if config.runs_actions_in_rasa else [action_process(config)])
        + [rasa_process(config)]
        + extra_rasa
        + [worker_process(config), console_process(config)]
    )
