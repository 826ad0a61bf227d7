"""The running assistant's live handoff, seen from the test: the console's URL, the key, the database rows."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional

import pytest
import sqlalchemy as sa

from bot.db.engine import Database
from bot.db.schema import audit_log, handoffs


@pytest.fixture(scope="module")
def console_url(stack) -> str:
    return f"http://127.0.0.1:{stack.config.extra_env['CONSOLE_PORT']}"


@pytest.fixture(scope="module")
def assistant_secret_key(stack) -> Iterator[None]:
    """This process derives conversation ids (sender_id_for) with the assistant's key."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITYBOT_SECRET_KEY", stack.shared_env()["CITYBOT_SECRET_KEY"])
        yield


@pytest.fixture(scope="module")
def db(stack) -> Iterator[Database]:
    """The assistant's own database, read directly (what the console and the action server share)."""
    database = Database(f"sqlite:///{stack.var_dir / 'citybot.db'}")
    yield database
    database.dispose()


def handoff_of(db: Database, sender_id: str) -> Optional[Any]:
    """The conversation's latest handoff row."""
    with db.engine.connect() as connection:
        return connection.execute(
            sa.select(handoffs).where(handoffs.c.sender_id == sender_id).order_by(handoffs.c.id.desc())
        ).first()


def audit_of(db: Database, handoff_id: int) -> List[tuple]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log).where(audit_log.c.handoff_id == handoff_id).order_by(audit_log.c.id)
        ).all()
    return [(r.actor, r.action) for r in rows]
