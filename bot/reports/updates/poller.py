"""Asks the back office about every followed request and records what changed."""

from __future__ import annotations

import logging

from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, ServiceRequest
from bot.reports.status import describe_request
from bot.reports.updates.store import record_changes, watched_request_ids

logger = logging.getLogger(__name__)

BATCH = 50


def update_text(request: ServiceRequest) -> str:
    return f"Update on your report: {describe_request(request)}"


async def poll_back_office(client: Open311Client) -> int:
    """Fetch every followed request (in batches) and record what changed."""
    ids = await watched_request_ids()
    created = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            found = await client.list_requests(service_request_ids=batch)
        except Open311Error as error:
            logger.info("status poll failed, will try again: %s", error)
            return created
        created += await record_changes(found, update_text)
    return created
