"""The alert's lease: one job at a time delivers an alert, and a dead job's alert is taken over safely.

The lease is renewed while the job runs; when its process dies the lease runs
out and the next job marks the rows left `sending` as `unconfirmed` (they may
have arrived), so nobody gets an alert twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Dict, Set

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import store
from bot.alerts.store import (
    CANCELLED,
    DELIVERING,
    DONE,
    DRAFT,
    PENDING,
    SENDING,
    UNCONFIRMED,
    Alert,
    AlertError,
)
from bot.db.engine import utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alerts

logger = logging.getLogger(__name__)


class AlertBusy(Exception):
    """Another job holds the alert's lease (it is being delivered elsewhere)."""


class Lease:
    """A job's hold on one alert row: taken at the start, renewed by a heartbeat, released at the end."""

    def __init__(self, alert_id: int, job_id: str, seconds: float, takeover: bool = False) -> None:
        self.alert_id = alert_id
        self.job_id = job_id
        self.seconds = seconds
        self.takeover = takeover

    def take(self, connection: Connection) -> Alert:
        row = connection.execute(sa.select(alerts).where(alerts.c.id == self.alert_id)).first()
        if row is None:
            raise AlertError(f"there is no alert {self.alert_id}")
        alert = Alert.from_row(row)
        if alert.state in (CANCELLED, DRAFT):  # nothing to deliver (a draft waits for its approval)
            return alert
        now = utcnow()
        if (
            alert.lease_owner
            and alert.lease_owner != self.job_id
            and alert.lease_until is not None
            and alert.lease_until > now
            and not self.takeover
        ):
            raise AlertBusy(
                f"alert {self.alert_id} is being delivered by {alert.lease_owner} "
                f"(lease until {alert.lease_until:%H:%M:%S} UTC)"
            )
        connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .values(
                lease_owner=self.job_id,
                lease_until=now + timedelta(seconds=self.seconds),
                state=DELIVERING,
                started_at=alert.started_at or now,
            )
        )
        # Rows an earlier job had on their way when it stopped: they may have arrived.
        stale = connection.execute(
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state == SENDING)
            .values(state=UNCONFIRMED, claimed_until=None)
        ).rowcount
        if stale:
            logger.warning(
                "alert %s: %d message(s) were on their way when the last job stopped; marked unconfirmed, "
                "not sent again",
                self.alert_id,
                stale,
            )
        taken = store.load_alert(connection, self.alert_id)  # with its texts in every language
        assert taken is not None
        return taken

    def renew(self, connection: Connection) -> bool:
        result = connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .values(lease_until=utcnow() + timedelta(seconds=self.seconds))
        )
        return result.rowcount == 1

    def release(self, on_the_wire: Set[int], connection: Connection) -> None:
        """Give the alert back; rows whose send had started (`on_the_wire`) become unconfirmed."""
        mine = (
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state == SENDING)
            .where(deliveries.c.claimed_by == self.job_id)
        )
        # Cancelled mid-send: the message may have arrived.
        if on_the_wire:
            connection.execute(
                mine.where(deliveries.c.id.in_(sorted(on_the_wire))).values(state=UNCONFIRMED, claimed_until=None)
            )
        # Claimed but never sent (cancelled before): simply pending again.
        connection.execute(
            mine.values(state=PENDING, claimed_by=None, claimed_until=None, attempts=deliveries.c.attempts - 1)
        )
        left = connection.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state.in_([PENDING, SENDING]))
        ).scalar_one()
        values: Dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if left == 0:
            values.update(state=DONE, finished_at=utcnow())
        connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .where(alerts.c.state != CANCELLED)
            .values(**values)
        )
        connection.execute(  # a cancelled alert only gives its lease back
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .values(lease_owner=None, lease_until=None)
        )

    async def heartbeat(self) -> None:
        """Renew the lease until cancelled; raises AlertBusy once another job took it."""
        while True:
            await asyncio.sleep(self.seconds / 3)
            if not await store.run(self.renew):
                raise AlertBusy(f"alert {self.alert_id}: another job took over the delivery")
