"""Who follows which request, and the status updates owed to them.

A change is written down (one row per subscriber and change, unique) in the
same transaction that moves the subscription's last-seen state forward; the
notifier then sends it, so a restart neither repeats a message nor forgets one.
The same transaction stamps the reports of a request heard closed (`closed_at`).
The texts are given by the caller: this module stores them and says nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from bot.db.engine import database, utcnow
from bot.db.schema import report_outbox
from bot.db.schema import report_subscriptions as subscriptions
from bot.db.schema import status_notifications as notifications
from bot.open311.models import ServiceRequest


def _change_key(status: Optional[str], notes: Optional[str]) -> str:
    return f"{(status or '').lower()}|{notes or ''}"[:512]


async def subscribe(sender_id: str, request: ServiceRequest) -> None:
    """Follow a request from its current state on (no message for what is already known).

    Following twice is following once: the action filing a report and the
    worker delivering it may both subscribe the resident at the same moment.
    """

    def insert(connection: Connection) -> None:
        try:
            with connection.begin_nested():
                connection.execute(
                    subscriptions.insert().values(
                        sender_id=sender_id,
                        service_request_id=request.service_request_id,
                        last_status=request.status,
                        last_notes=request.status_notes,
                        created_at=utcnow(),
                    )
                )
        except sa.exc.IntegrityError:
            pass  # already following it

    await database().run(insert)


async def record_changes(
    requests: Iterable[ServiceRequest],
    text_for: Callable[[ServiceRequest, str], str],
    now: Optional[datetime] = None,
) -> int:
    """Write a notification for every subscriber of a request that changed, and when a report was first heard closed.

    Its text is `text_for(request, sender_id)`: each follower reads it in their own language.
    """
    by_id: Dict[str, ServiceRequest] = {r.service_request_id: r for r in requests}
    at = now or utcnow()

    def record(connection: Connection) -> int:
        mark_closed(connection, [r.service_request_id for r in by_id.values() if not r.is_open], at)
        created = 0
        rows = connection.execute(
            sa.select(subscriptions).where(subscriptions.c.service_request_id.in_(list(by_id)))
        ).all()
        for row in rows:
            request = by_id[row.service_request_id]
            if _change_key(request.status, request.status_notes) == _change_key(row.last_status, row.last_notes):
                continue
            key = _change_key(request.status, request.status_notes)
            try:
                with connection.begin_nested():
                    connection.execute(
                        notifications.insert().values(
                            sender_id=row.sender_id,
                            service_request_id=row.service_request_id,
                            change_key=key,
                            text=text_for(request, row.sender_id),
                            state="pending",
                            attempts=0,
                            created_at=at,
                        )
                    )
                created += 1
            except sa.exc.IntegrityError:
                pass  # this change was already recorded (e.g. before a restart)
            connection.execute(
                subscriptions.update()
                .where(subscriptions.c.sender_id == row.sender_id)
                .where(subscriptions.c.service_request_id == row.service_request_id)
                .values(last_status=request.status, last_notes=request.status_notes)
            )
        return created

    return await database().run(record)


def mark_closed(connection: Connection, request_ids: Sequence[str], at: datetime) -> None:
    """The reports of these requests, closed by the back office, were first heard closed `at`.

    `report_outbox.closed_at` is the dashboard's time to close (bot/dashboard/reports.py): it is no
    personal data, so it outlives the status updates, which the retention job deletes with the
    resident who got them. A request closed again after reopening keeps its first close.
    """
    if request_ids:
        connection.execute(
            report_outbox.update()
            .where(report_outbox.c.service_request_id.in_(list(request_ids)), report_outbox.c.closed_at.is_(None))
            .values(closed_at=at)
        )


async def followers_of(request_ids: Sequence[str]) -> List[str]:
    """Who follows any of these requests."""
    rows = await database().run(
        lambda c: c.execute(
            sa.select(subscriptions.c.sender_id)
            .where(subscriptions.c.service_request_id.in_(list(request_ids)))
            .distinct()
        ).all()
    )
    return [row.sender_id for row in rows]


async def watched_request_ids() -> List[str]:
    rows = await database().run(lambda c: c.execute(sa.select(subscriptions.c.service_request_id).distinct()).all())
    return [row.service_request_id for row in rows]


async def pending_notifications(limit: int) -> Sequence[Row]:
    """The oldest updates not yet sent (nor given up on)."""
    return await database().run(
        lambda c: c.execute(
            sa.select(notifications).where(notifications.c.state == "pending").order_by(notifications.c.id).limit(limit)
        ).all()
    )


async def settle_notification(notification_id: int, state: str, attempts: Optional[int] = None) -> None:
    """Write down what became of one send: its state ("sent" stamps the time) and attempts so far."""
    values: Dict[str, object] = {"state": state}
    if state == "sent":
        values["sent_at"] = utcnow()
    if attempts is not None:
        values["attempts"] = attempts
    await database().run(
        lambda c: c.execute(notifications.update().where(notifications.c.id == notification_id).values(**values))
    )
