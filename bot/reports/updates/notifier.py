"""Sends the recorded status updates, each to its resident's own channel (else the phone they gave)."""

from __future__ import annotations

import logging

from bot.channels.outbound import NotDeliverable, deliver_update
from bot.reports.updates.store import pending_notifications, settle_notification

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8


async def send_pending(limit: int = 200) -> int:
    """Send recorded updates; opted-out or unreachable residents are skipped, failures retried."""
    sent = 0
    for row in await pending_notifications(limit):
        try:
            await deliver_update(row.sender_id, row.text)
        except NotDeliverable as reason:
            logger.info("status update %s not deliverable: %s", row.id, reason)
            await settle_notification(row.id, "skipped")
        except Exception as error:  # a channel API failure: try again on the next round
            attempts = row.attempts + 1
            logger.warning("status update %s failed (attempt %d): %s", row.id, attempts, error)
            await settle_notification(row.id, "failed" if attempts >= MAX_SEND_ATTEMPTS else "pending", attempts)
        else:
            await settle_notification(row.id, "sent")
            sent += 1
    return sent
