"""Asks the back office about every followed request and records what changed, in each follower's language."""

from __future__ import annotations

import logging
from typing import Callable, Mapping

from bot.i18n.messages import Messages, messages
from bot.i18n.store import languages_for
from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, ServiceRequest
from bot.reports.status import describe_request
from bot.reports.updates.store import followers_of, record_changes, watched_request_ids

logger = logging.getLogger(__name__)

BATCH = 50


def update_text(request: ServiceRequest, texts: Messages) -> str:
    """The message a follower gets when a request changes."""
    return texts.text("reports.update", status=describe_request(request, texts))


def texts_for_each(languages: Mapping[str, str]) -> Callable[[ServiceRequest, str], str]:
    """The update text for a request and a follower, in that follower's language (default when unknown)."""
    return lambda request, sender_id: update_text(request, messages(languages.get(sender_id)))


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
        # Each follower reads the update in their own stored language.
        languages = await languages_for(await followers_of(batch))
        created += await record_changes(found, texts_for_each(languages))
    return created
