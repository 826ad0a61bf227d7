"""Alerts on their way through the two-person rule, for tests of what happens after (the delivery job's).

`queued_alert(...)` is what staff do in the console: a supervisor writes the
draft, a second one approves it, the first sends it. The two supervisors are
accounts written straight into the database (no one signs in with them).
"""

from __future__ import annotations

from typing import Mapping, Optional

import sqlalchemy as sa

from bot.alerts import approval
from bot.alerts.store import Alert, AlertContent
from bot.db.engine import database, utcnow
from bot.db.schema import staff_users

AUTHOR, APPROVER = "ops", "ops-second"


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
