"""Staff holds: a conversation kept whole past the retention limit (a legal hold, a complaint under review).

Any signed-in staff member may put a conversation on hold or release it, from
its page in the console or with `citybot retention hold|release`; both go in
the audit log (the conversation's id, never the reason, which staff write
freely). The hold itself records who, why and when; a released hold is gone,
and the retention job treats the conversation as any other from its next run.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, default_tracker_url, utcnow
from bot.db.schema import contacts, handoffs, retention_holds, webchat_messages
from bot.handoff import store
from bot.retention import events

MAX_REASON_CHARS = 500
MAX_ID_CHARS = 128
HOLD, RELEASE = "retention_hold", "retention_release"  # audit log actions


class HoldError(ValueError):
    """A hold that cannot be placed or released, with the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Hold:
    conversation_id: str
    held_by: str
    reason: str
    held_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> "Hold":
        return cls(row.conversation_id, row.held_by, row.reason, store.aware(row.held_at))


def checked_reason(reason: Optional[str]) -> str:
    text = (reason or "").strip()
    if not text:
        raise HoldError("say why the conversation is kept (e.g. a legal hold and its case)")
    if len(text) > MAX_REASON_CHARS:
        raise HoldError(f"a reason can be at most {MAX_REASON_CHARS} characters")
    return text


def checked_id(conversation_id: Optional[str]) -> str:
    text = (conversation_id or "").strip()
    if not text or len(text) > MAX_ID_CHARS:
        raise HoldError(f"a conversation id has 1 to {MAX_ID_CHARS} characters")
    return text


def audit_detail(conversation_id: str, person: str, actor: Optional[str]) -> str:
    """The audit line's detail: the conversation, and for whom when the actor is a tool ("(cli)")."""
    return f"conversation {conversation_id}" + (f" by {person}" if actor and actor != person else "")


async def place_hold(
    conversation_id: str,
    held_by: str,
    reason: Optional[str],
    *,
    actor: Optional[str] = None,
    handoff_id: Optional[int] = None,
) -> Hold:
    """Keep a conversation past the limit (409 if it is on hold already); audited as `actor` (default: held_by)."""
    conversation_id, text = checked_id(conversation_id), checked_reason(reason)

    def insert(connection: Connection) -> Hold:
        existing = connection.execute(
            sa.select(retention_holds).where(retention_holds.c.conversation_id == conversation_id)
        ).first()
        if existing is not None:
            raise HoldError(f"this conversation is on hold already (by {existing.held_by})", 409)
        hold = Hold(conversation_id, held_by, text, utcnow())
        connection.execute(retention_holds.insert().values(**asdict(hold)))
        return hold

    try:
        hold = await database().run(insert)
    except sa.exc.IntegrityError:  # placed by someone else a moment ago
        raise HoldError("this conversation is on hold already", 409) from None
    await store.audit(actor or held_by, HOLD, handoff_id, audit_detail(conversation_id, held_by, actor))
    return hold


async def release_hold(
    conversation_id: str, released_by: str, *, actor: Optional[str] = None, handoff_id: Optional[int] = None
) -> None:
    """End a conversation's hold (404 if it has none); audited as `actor` (default: released_by)."""
    conversation_id = checked_id(conversation_id)
    deleted = await database().run(
        lambda c: (
            c.execute(retention_holds.delete().where(retention_holds.c.conversation_id == conversation_id)).rowcount
        )
    )
    if not deleted:
        raise HoldError("this conversation is not on hold", 404)
    await store.audit(actor or released_by, RELEASE, handoff_id, audit_detail(conversation_id, released_by, actor))


async def hold_of(conversation_id: str) -> Optional[Hold]:
    row = await database().run(
        lambda c: c.execute(
            sa.select(retention_holds).where(retention_holds.c.conversation_id == conversation_id)
        ).first()
    )
    return None if row is None else Hold.from_row(row)


async def all_holds() -> List[Hold]:
    rows = await database().run(
        lambda c: c.execute(sa.select(retention_holds).order_by(retention_holds.c.held_at)).all()
    )
    return [Hold.from_row(row) for row in rows]


def stored_in(connection: Connection, column: sa.Column, conversation_id: str) -> bool:
    return connection.execute(sa.select(column).where(column == conversation_id).limit(1)).first() is not None


async def known_conversation(conversation_id: str) -> bool:
    """Whether the assistant or Rasa stores anything of this conversation (a typo in a CLI hold is refused)."""

    def in_tracker() -> bool:
        tracker = events.open_tracker(default_tracker_url())
        if tracker is None:
            return False
        try:
            with tracker.connect() as connection:
                return stored_in(connection, events.events.c.sender_id, conversation_id)
        finally:
            tracker.dispose()

    def in_assistant(connection: Connection) -> bool:
        columns = (contacts.c.sender_id, handoffs.c.sender_id, webchat_messages.c.sender_id)
        return any(stored_in(connection, column, conversation_id) for column in columns)

    return await database().run(in_assistant) or await asyncio.to_thread(in_tracker)
