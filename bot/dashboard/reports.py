"""The reports residents made in a date range, and how long the back office took to close them.

A report counts on the city day it was made (`report_outbox.created_at`),
whatever became of it. It is closed when the worker's status poll heard the
back office call its request closed: the first status update recorded for the
request with the status `closed` (`status_notifications`, bot/reports/updates).
Its time to close runs from when the back office got it (`filed_at`) to then,
so it is as precise as the poll (STATUS_POLL_SECONDS). The retention job deletes
the updates of a forgotten resident (docs/privacy.md): a report older than the
retention limit keeps its count, not its time to close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.identity import channel_of
from bot.dashboard.handoffs import seconds_between
from bot.dashboard.period import Period
from bot.db.engine import database
from bot.db.schema import report_outbox, status_notifications
from bot.handoff.store import aware

CLOSED_CHANGE = "closed|%"  # a status update's change key: the status, lower case, then the notes
NO_CONVERSATION = "none"  # a report made outside a conversation


@dataclass(frozen=True)
class ReportTimes:
    reference: str
    service: str  # the back office's name of the service, else its code
    channel: str  # the channel of the conversation it came from
    state: str
    made_at: datetime
    filed_at: Optional[datetime]
    closed_at: Optional[datetime]

    @property
    def time_to_close(self) -> Optional[float]:
        return seconds_between(self.filed_at or self.made_at, self.closed_at)


def read_reports(connection: Connection, period: Period) -> List[ReportTimes]:
    made = sa.and_(report_outbox.c.created_at >= period.start_utc, report_outbox.c.created_at < period.end_utc)
    rows = connection.execute(sa.select(report_outbox).where(made).order_by(report_outbox.c.created_at)).all()
    closed: Dict[str, datetime] = {
        row.service_request_id: aware(row.first)
        for row in connection.execute(
            sa.select(
                status_notifications.c.service_request_id,
                sa.func.min(status_notifications.c.created_at).label("first"),
            )
            .where(
                status_notifications.c.service_request_id.in_(
                    sa.select(report_outbox.c.service_request_id).where(
                        made, report_outbox.c.service_request_id.is_not(None)
                    )
                ),
                status_notifications.c.change_key.like(CLOSED_CHANGE),
            )
            .group_by(status_notifications.c.service_request_id)
        )
    }
    return [
        ReportTimes(
            reference=row.reference,
            service=row.service_name or row.service_code,
            channel=channel_of(row.sender_id) if row.sender_id else NO_CONVERSATION,
            state=row.state,
            made_at=aware(row.created_at),
            filed_at=aware(row.filed_at),
            closed_at=closed.get(row.service_request_id) if row.service_request_id else None,
        )
        for row in rows
    ]


async def reports_in(period: Period) -> List[ReportTimes]:
    """The reports made in `period`, oldest first."""
    return await database().run(lambda connection: read_reports(connection, period))
