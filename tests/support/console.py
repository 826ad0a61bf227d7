"""A staff console started on its own for a test module: `citybot console` on a SQLite database of its own.

For tests of the console alone (sign-in, holds); tests of the whole assistant use
the stack's console (tests/support/handoff.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, TypeVar

from bot.db.engine import Database
from bot.process.procs import free_port
from bot.process.stack import StackConfig
from bot.process.stack_processes import console_process


class RunningConsole:
    """A running console: its settings, URL and database (a test module adds what it reads there)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{config.extra_env['CONSOLE_PORT']}"
        self.db = Database(f"sqlite:///{config.var_dir / 'citybot.db'}")

    def shared_env(self) -> Dict[str, str]:  # what tests.support.staff.make_staff needs of a stack
        return self.config.shared_env()


C = TypeVar("C", bound=RunningConsole)


@contextmanager
def console_alone(var_dir: Path, kind: Callable[[StackConfig], C], **env: str) -> Iterator[C]:
    """Start the console (as `citybot run` does) with `env` added; `kind(config)` while it answers."""
    config = StackConfig(
        var_dir=var_dir,
        extra_env={"CONSOLE_PORT": str(free_port()), "CITYBOT_SECRET_KEY": "test-secret-key", **env},
    )
    process = console_process(config)
    process.start()
    try:
        process.wait_ready(120)
        running = kind(config)
        yield running
        running.db.dispose()
    finally:
        process.stop()
