"""The handoffs to staff opened in a date range, and how long residents waited (the handoffs table, the audit log).

A handoff's wait to be claimed ends at its first `claim` in the audit log (a
claim released and taken again counts once, at the first); its wait for a
reply ends at the first `reply` the audit log records as delivered (a reply
whose detail says "not delivered" did not reach the resident). Both start when
the handoff opened: the resident's wait. A conversation staff took over on
their own (reason `staff`) had no one waiting and is left out of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.dashboard.period import Period
from bot.db.engine import database
from bot.db.schema import audit_log, handoffs
from bot.handoff.store import STAFF, aware

CLAIM, REPLY = "claim", "reply"
NOT_DELIVERED = "not delivered%"  # the detail of a reply the resident did not get (bot/handoff/service.py)


@dataclass(frozen=True)
class HandoffTimes:
    id: int
    reason: str
    opened_at: datetime
    claimed_at: Optional[datetime]  # first claimed (None: never)
    replied_at: Optional[datetime]  # first staff reply delivered (None: none)

    @property
    def resident_waited(self) -> bool:
        """A resident asked for staff (not a conversation staff took over on their own)."""
        return self.reason != STAFF

    @property
    def wait_to_claim(self) -> Optional[float]:
        return seconds_between(self.opened_at, self.claimed_at) if self.resident_waited else None

    @property
    def wait_to_reply(self) -> Optional[float]:
        return seconds_between(self.opened_at, self.replied_at) if self.resident_waited else None


def seconds_between(start: datetime, end: Optional[datetime]) -> Optional[float]:
    return None if end is None else max(0.0, (end - start).total_seconds())


def read_handoffs(connection: Connection, period: Period) -> List[HandoffTimes]:
    opened = sa.and_(handoffs.c.created_at >= period.start_utc, handoffs.c.created_at < period.end_utc)
    rows = connection.execute(
        sa.select(handoffs.c.id, handoffs.c.reason, handoffs.c.created_at, handoffs.c.claimed_at)
        .where(opened)
        .order_by(handoffs.c.id)
    ).all()
    delivered = sa.or_(audit_log.c.detail.is_(None), sa.not_(audit_log.c.detail.like(NOT_DELIVERED)))
    firsts: Dict[Tuple[int, str], datetime] = {
        (row.handoff_id, row.action): aware(row.first)
        for row in connection.execute(
            sa.select(audit_log.c.handoff_id, audit_log.c.action, sa.func.min(audit_log.c.at).label("first"))
            .where(
                audit_log.c.handoff_id.in_(sa.select(handoffs.c.id).where(opened)),
                sa.or_(audit_log.c.action == CLAIM, sa.and_(audit_log.c.action == REPLY, delivered)),
            )
            .group_by(audit_log.c.handoff_id, audit_log.c.action)
        )
    }
    return [
        HandoffTimes(
            id=row.id,
            reason=row.reason,
            opened_at=aware(row.created_at),
            # A take-over is claimed as it opens, without a `claim` in the audit log.
            claimed_at=firsts.get((row.id, CLAIM)) or aware(row.claimed_at),
            replied_at=firsts.get((row.id, REPLY)),
        )
        for row in rows
    ]


async def handoffs_in(period: Period) -> List[HandoffTimes]:
    """The handoffs opened in `period`, oldest first."""
    return await database().run(lambda connection: read_handoffs(connection, period))
