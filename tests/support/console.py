"""The staff console started alone (`python -m bot.handoff.console`, as `citybot run` does) on its own SQLite database.

Nothing else of the assistant is needed for signing in or managing accounts,
so these tests start in seconds and own their database (every account, every
audit row in it is theirs).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Type, TypeVar

import sqlalchemy as sa

from bot.db.engine import Database
from bot.db.schema import audit_log
from bot.process.procs import ManagedProcess, free_port
from bot.process.stack import StackConfig
from bot.process.stack_processes import console_process
from tests.support.staff import Staff


class Console:
    """A running console: its settings, URL and database."""

    def __init__(self, config: StackConfig, process: ManagedProcess) -> None:
        self.config = config
        self.process = process
        self.url = f"http://127.0.0.1:{config.extra_env['CONSOLE_PORT']}"
        self.db = Database(f"sqlite:///{config.var_dir / 'citybot.db'}")

    def shared_env(self) -> dict:  # what tests.support.staff.make_staff needs of a stack
        return self.config.shared_env()

    def staff(self, username: str, client: Optional[str] = None) -> Staff:
        """A staff member's session, coming from `client` (through a trusted proxy) when given."""
        member = Staff(self.url, username)
        if client:
            member.client.headers["X-Forwarded-For"] = client
        return member

    def audit(self, actor: str) -> List[Tuple[str, str]]:
        """(action, detail) of each audit row of `actor`, oldest first."""
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                sa.select(audit_log.c.action, audit_log.c.detail)
                .where(audit_log.c.actor == actor)
                .order_by(audit_log.c.id)
            ).all()
        return [(r.action, r.detail) for r in rows]

    def log(self) -> str:
        return (self.config.var_dir / "logs" / "console.log").read_text(errors="replace")


C = TypeVar("C", bound=Console)


@contextlib.contextmanager
def console_alone(var_dir: Path, env: Optional[Dict[str, str]] = None, kind: Type[C] = Console) -> Iterator[C]:  # type: ignore[assignment]
    """A console on a free port with its database in `var_dir`, stopped afterwards; `kind` adds a module's helpers."""
    config = StackConfig(
        var_dir=var_dir,
        extra_env={"CONSOLE_PORT": str(free_port()), "CITYBOT_SECRET_KEY": "test-secret-key", **(env or {})},
    )
    process = console_process(config)
    process.start()
    try:
        process.wait_ready(120)
        running = kind(config, process)
        yield running
        running.db.dispose()
    finally:
        process.stop()
