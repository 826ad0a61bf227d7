"""Alerts on their way through the two-person rule, for tests of what happens after (the delivery job's).

`queued_alert(...)` is what staff do in the console: a supervisor writes the
draft, a second one approves it, the first sends it. The two supervisors are
accounts written straight into the database (no one signs in with them).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator, Mapping, Optional

import pytest
import sqlalchemy as sa

from bot.alerts import approval
from bot.alerts.store import Alert, AlertContent
from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import staff_users

AUTHOR, APPROVER = "ops", "ops-second"
POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_database(kind: str, monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    """The process-wide database on a fresh SQLite file (in CITYBOT_VAR_DIR), or a fresh PostgreSQL one `name`."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = None
    if kind == "postgresql":
        from bench.databases import create_database

        url = create_database(POSTGRES_URL, name)
        monkeypatch.setenv("DATABASE_URL", url)
    reset_database()
    try:
        yield
    finally:
        reset_database()
        if url:
            from bench.databases import drop_database

            drop_database(POSTGRES_URL, url)


def add_accounts(*names: str, role: str = "supervisor", disabled: bool = False) -> None:
    """Staff accounts with `role` (a password nobody knows), unless they exist already."""
    with database().engine.begin() as connection:
        known = set(connection.execute(sa.select(staff_users.c.username)).scalars())
        rows = [
            dict(
                username=name,
                password_hash="!",
                created_at=utcnow(),
                disabled=disabled,
                failed_logins=0,
                role=role,
            )
            for name in names
            if name not in known
        ]
        if rows:
            connection.execute(staff_users.insert(), rows)


async def queued_alert(
    topic: str,
    zone: str,
    severity: str,
    text: str,
    translations: Optional[Mapping[str, Optional[str]]] = None,
    faq_url: Optional[str] = None,
) -> Alert:
    """An alert written by one supervisor, approved by another, and sent: its deliveries wait for a job."""
    add_accounts(AUTHOR, APPROVER)
    content = AlertContent(topic, zone, severity, text, translations or {}, faq_url)
    draft = await approval.draft_alert(content, AUTHOR)
    await approval.approve_alert(draft.id, APPROVER, draft.revision)
    return await approval.send_alert(draft.id, AUTHOR, draft.revision)
