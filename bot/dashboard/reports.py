"""The reports residents made in a date range, and how long the back office took to close them.

A report counts on the city day it was made (`report_outbox.created_at`),
whatever became of it. It is closed when the worker's status poll heard the
back office call its request closed: `report_outbox.closed_at`, stamped the
first time the poll found it closed (bot/reports/updates/store.py). Its time to
close runs from when the back office got it (`filed_at`) to then, so it is as
precise as the poll (STATUS_POLL_SECONDS). Both times stay on the report past
the retention limit (they are no personal data; docs/privacy.md), so an old
report keeps its time to close after its resident is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.identity import channel_of
from bot.dashboard.handoffs import seconds_between
from bot.dashboard.period import Period
from bot.db.engine import database
from bot.db.schema import report_outbox
from bot.handoff.store import aware

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
    rows = connection.execute(
        sa.select(
            report_outbox.c.reference,
            report_outbox.c.service_name,
            report_outbox.c.service_code,
            report_outbox.c.sender_id,
            report_outbox.c.state,
            report_outbox.c.created_at,
            report_outbox.c.filed_at,
            report_outbox.c.closed_at,
        )
        .where(made)
        .order_by(report_outbox.c.created_at)
    ).all()
    return [
        ReportTimes(
            reference=row.reference,
            service=row.service_name or row.service_code,
            channel=channel_of(row.sender_id) if row.sender_id else NO_CONVERSATION,
            state=row.state,
            made_at=aware(row.created_at),
            filed_at=aware(row.filed_at),
            closed_at=aware(row.closed_at),
        )
        for row in rows
    ]


async def reports_in(period: Period) -> List[ReportTimes]:
    """The reports made in `period`, oldest first."""
    return await database().run(lambda connection: read_reports(connection, period))
