"""Status updates: residents hear when a request they filed or follow changes.

A change is written down (one row per subscriber and change, unique) in the
same transaction that moves the subscription's last-seen state forward, then
sent; so a restart neither repeats a message nor forgets one.
"""
from __future__ import annotations

import logging
from typing import Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.outbound import NotDeliverable, deliver
from bot.db.engine import database, utcnow
from bot.db.schema import report_subscriptions as subscriptions
from bot.db.schema import status_notifications as notifications
from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, ServiceRequest
from bot.reports.status import describe_request

logger = logging.getLogger(__name__)

BATCH = 50
MAX_SEND_ATTEMPTS = 8

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


def update_text(request: ServiceRequest) -> str:
    return f"Update on your report: {describe_request(request)}"


async def record_changes(requests: Iterable[ServiceRequest]) -> int:
    """Write a notification for every subscriber of a request whose status or notes changed."""
    by_id: Dict[str, ServiceRequest] = {r.service_request_id: r for r in requests}

    def record(connection: Connection) -> int:
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
                            text=update_text(request),
                            state="pending",
                            attempts=0,
                            created_at=utcnow(),
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


async def watched_request_ids() -> List[str]:
    rows = await database().run(
        lambda c: c.execute(sa.select(subscriptions.c.service_request_id).distinct()).all()
    )
    return [row.service_request_id for row in rows]


async def poll_back_office(client: Open311Client) -> int:
    """Fetch every followed request (in batches) and record what changed."""
    ids = await watched_request_ids()
    created = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        try:
            found = await client.list_requests(service_request_ids=batch)
        except Open311Error as error:
            logger.info("status poll failed, will try again: %s", error)
            return created
        created += await record_changes(found)
    return created


async def send_pending(limit: int = 200) -> int:
    """Send recorded updates; opted-out or unreachable residents are skipped, failures retried."""
    rows = await database().run(
        lambda c: c.execute(
            sa.select(notifications).where(notifications.c.state == "pending").order_by(notifications.c.id).limit(limit)
        ).all()
    )
    sent = 0
    for row in rows:
        values: Dict[str, object]
        try:
            await deliver(row.sender_id, row.text)
            values = {"state": "sent", "sent_at": utcnow()}
            sent += 1
        except NotDeliverable as reason:
            logger.info("status update %s not deliverable: %s", row.id, reason)
            values = {"state": "skipped"}
        except Exception as error:  # a channel API failure: try again on the next round
            attempts = row.attempts + 1
            logger.warning("status update %s failed (attempt %d): %s", row.id, attempts, error)
            values = {"attempts": attempts, "state": "failed" if attempts >= MAX_SEND_ATTEMPTS else "pending"}
        await database().run(
            lambda c, v=values, i=row.id: c.execute(notifications.update().where(notifications.c.id == i).values(**v))
        )
    return sent
