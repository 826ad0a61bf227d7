"""Posting sent alerts on the city's Facebook Page (`POST /{page-id}/feed`), once each, for the worker.

Each due post (bot.alerts.page_post) is claimed in a committed transaction
before Meta is called, so two workers, a retry or a restart never post it
twice. The Graph API call is the Messenger channel's client
(bot.channels.messenger_api.GraphClient) making one attempt: the retries are
this job's, recorded on the row with a backoff (ALERT_RETRY_BASE_SECONDS,
ALERT_MAX_ATTEMPTS) so they survive a restart. A 429, a 5xx or Meta's
temporary errors are retried; any other refusal fails the post for good; a
call that got no answer leaves it unconfirmed (it may be on the Page).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any, Dict, Optional

from bot.alerts import page_post, store
from bot.alerts.delivery.failures import short
from bot.alerts.delivery.settings import DeliverySettings, new_job_id
from bot.alerts.page_post import FAILED, PENDING, PUBLISHED, UNCONFIRMED, PagePost
from bot.db.engine import utcnow

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120.0  # far longer than one Graph call may take (its timeout: 10 s)

_client: Optional[Any] = None  # the GraphClient of this process, for the Page's current settings


def graph_client() -> Optional[Any]:
    """The Page's Graph API client (one attempt a call), None when the Page is not set up."""
    from bot.channels.messenger_api import GraphClient, MessengerSettings

    global _client
    settings = MessengerSettings.from_env()
    if not settings.can_send:
        return None
    if _client is None or _client.settings != settings:
        _client = GraphClient(settings, attempts=1)
    return _client


async def close_client() -> None:
    """Close the Page client's connections (at shutdown)."""
    global _client
    client, _client = _client, None
    if client is not None:
        await client.aclose()


def feed_body(alert: store.Alert) -> Dict[str, str]:
    """What `/{page-id}/feed` gets: the text in the city's languages, and the FAQ answer as its link."""
    body = {"message": page_post.page_message(alert)}
    if alert.faq_url:
        body["link"] = alert.faq_url
    return body


async def publish(alert_id: int, client: Any, settings: DeliverySettings, job_id: str) -> Optional[PagePost]:
    """Claim one alert's post and make one attempt; what it came to (None: another job has it, or it is done)."""
    from bot.channels.messenger_api import GraphSendError

    claimed = await store.run(partial(page_post.claim, alert_id=alert_id, job_id=job_id, seconds=CLAIM_SECONDS))
    if claimed is None:
        return None
    alert, post = claimed
    outcome: Dict[str, Any]
    try:
        answer = await client.post(f"/{client.settings.page_id}/feed", feed_body(alert))
    except GraphSendError as error:
        if error.unanswered:
            outcome = {"state": UNCONFIRMED, "last_error": short(error)}
        elif error.temporary and post.attempts < settings.max_attempts:
            delay = settings.backoff(post.attempts)
            outcome = {
                "state": PENDING,
                "last_error": short(error),
                "next_attempt_at": utcnow() + timedelta(seconds=delay),
            }
        else:
            outcome = {"state": FAILED, "last_error": short(error)}
    except Exception as error:  # an answer we could not read: the post may be up
        outcome = {"state": UNCONFIRMED, "last_error": short(error)}
    else:
        post_id = str(answer.get("id") or "")
        if post_id:
            outcome = {"state": PUBLISHED, "post_id": post_id[:128], "published_at": utcnow(), "last_error": None}
        else:
            outcome = {"state": UNCONFIRMED, "last_error": "Meta answered without a post id"}
    done = await store.run(partial(page_post.record, alert_id=alert_id, job_id=job_id, **outcome))
    log = logger.info if outcome["state"] in (PUBLISHED, PENDING) else logger.warning
    log(
        "alert %s: Facebook Page post %s (attempt %d)%s",
        alert_id,
        outcome["state"],
        post.attempts,
        f": {outcome['last_error']}" if outcome.get("last_error") else "",
    )
    return done


async def publish_due(settings: Optional[DeliverySettings] = None, client: Optional[Any] = None) -> int:
    """Post every due alert on the Page (one attempt each); how many were published. Nothing without a Page."""
    client = client or graph_client()
    if client is None:
        return 0
    settings = settings or DeliverySettings.from_env()
    stale = await store.run(page_post.expire_claims)
    if stale:
        logger.warning("%d Facebook Page post(s) were on their way when their job stopped: unconfirmed", stale)
    job_id = new_job_id()
    published = 0
    for alert_id in await store.run(page_post.due):
        done = await publish(alert_id, client, settings, job_id)
        published += done is not None and done.state == PUBLISHED
    return published
