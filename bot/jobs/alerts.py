"""Job alerts: each new posting reaches each matching subscriber once, through the city's outbound channels.

A posting is new when its identifier was never seen (`job_postings_seen`, kept
across restarts). In the transaction that stores a good read of the feed, every
new open posting is marked seen and one alert row is written per matching
subscriber (unique per posting and subscriber), so a posting is announced once
however often the feed is read, and by however many workers. The first read of
a feed only marks its postings seen: subscribers hear of postings published
after that, not of the whole list at once.

Rows are then sent like status updates and crisis alerts: through
bot.channels.outbound (the resident's own channel; opted-out residents are not
reached), paced by the channel's alert rate (bot.alerts.limiter). A row is
claimed (`sending`, committed) before its message leaves; one a dead process
left `sending` becomes `unconfirmed` and is never sent again, so nobody gets an
alert twice. An alert is skipped when the resident unsubscribed meanwhile, the
posting closed meanwhile, or the channel does not let the city write first now
(WhatsApp, 24 hours after the resident's last message: bot.survey.eligibility).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts.delivery.failures import is_permanent, short
from bot.alerts.limiter import limit_for
from bot.alerts.store import aware
from bot.channels.outbound import NotDeliverable, deliver
from bot.db.contacts import contact_for
from bot.db.engine import database, utcnow
from bot.db.schema import job_notifications as notifications
from bot.db.schema import job_postings_seen as seen
from bot.i18n.messages import messages
from bot.jobs.parse import Feed
from bot.jobs.postings import Posting
from bot.jobs.source import careers_url_of_city
from bot.jobs.subscriptions import subscriptions_in
from bot.jobs.texts import alert_text
from bot.survey.eligibility import inside_window

logger = logging.getLogger(__name__)

PENDING, SENDING, SENT, SKIPPED, FAILED, UNCONFIRMED = "pending", "sending", "sent", "skipped", "failed", "unconfirmed"
MAX_ATTEMPTS = 5
CLAIM_SECONDS = 60.0  # a row `sending` longer than this was left by a process that died
RETRY_SECONDS = 30.0  # the first retry's delay, doubling


def announce_new(connection: Connection, feed: Feed, first_read: bool, now: Optional[dt.datetime] = None) -> int:
    """Mark the feed's unseen postings seen and write their alerts (none on the feed's first read).

    Runs in the transaction that stores the read (bot.jobs.source.refresh's `then`);
    returns how many alerts were written.
    """
    moment = now or utcnow()
    known = {row[0] for row in connection.execute(sa.select(seen.c.identifier))}
    new = [posting for posting in feed.postings if posting.identifier not in known]
    if not new:
        return 0
    connection.execute(seen.insert(), [dict(identifier=p.identifier[:256], first_seen_at=moment) for p in new])
    if first_read:
        logger.info("jobs feed read for the first time: %d postings, no alerts for them", len(new))
        return 0
    rows: List[Dict[str, object]] = []
    subscribers = subscriptions_in(connection)
    for posting in new:
        if not posting.is_open(moment):
            continue
        for sender_id, language in _recipients(posting, subscribers).items():
            rows.append(
                dict(
                    posting_id=posting.identifier[:256],
                    sender_id=sender_id,
                    language=language,
                    posting=json.dumps(posting.as_dict(), ensure_ascii=False),
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=moment,
                    created_at=moment,
                )
            )
    if rows:
        connection.execute(notifications.insert(), rows)
    logger.info("jobs feed: %d new posting(s), %d job alert(s) to send", len(new), len(rows))
    return len(rows)


def _recipients(posting: Posting, subscribers: list) -> Dict[str, str]:
    """Each subscriber wanting the posting, once, with the language of their first matching subscription."""
    found: Dict[str, str] = {}
    for subscription in subscribers:
        if subscription.sender_id not in found and subscription.wants(posting):
            found[subscription.sender_id] = subscription.language
    return found


@dataclass(frozen=True)
class _Due:
    id: int
    sender_id: str
    language: str
    posting: Posting
    attempts: int


def _due(connection: Connection, now: dt.datetime, limit: int) -> List[_Due]:
    """Rows left `sending` by a dead process become unconfirmed; then the pending rows that are due."""
    connection.execute(
        notifications.update()
        .where(notifications.c.state == SENDING, notifications.c.claimed_until < now)
        .values(state=UNCONFIRMED)
    )
    rows = connection.execute(
        sa.select(notifications)
        .where(notifications.c.state == PENDING, notifications.c.next_attempt_at <= now)
        .order_by(notifications.c.id)
        .limit(limit)
    )
    return [
        _Due(row.id, row.sender_id, row.language, Posting.from_dict(json.loads(row.posting)), row.attempts)
        for row in rows
    ]


def _claim(connection: Connection, due: _Due, now: dt.datetime) -> bool:
    """Take a row for sending (committed before the message leaves); False when another worker did."""
    return bool(
        connection.execute(
            notifications.update()
            .where(notifications.c.id == due.id, notifications.c.state == PENDING)
            .values(
                state=SENDING,
                attempts=due.attempts + 1,
                claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
            )
        ).rowcount
    )


async def _settle(row_id: int, state: str, error: Optional[str] = None, retry_at: Optional[dt.datetime] = None) -> None:
    values: Dict[str, object] = {"state": state, "last_error": error, "claimed_until": None}
    if state == SENT:
        values["sent_at"] = utcnow()
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    await database().run(
        lambda connection: connection.execute(
            notifications.update().where(notifications.c.id == row_id).values(**values)
        )
    )


async def _skip_reason(due: _Due, now: dt.datetime) -> Optional[str]:
    """Why this alert must not go now (None: it may)."""
    if not due.posting.is_open(now):
        return "the posting closed"
    subscribed = await database().run(lambda connection: subscriptions_in(connection, [due.sender_id]))
    if not any(subscription.wants(due.posting) for subscription in subscribed):
        return "unsubscribed"
    contact = await contact_for(due.sender_id)
    if contact is not None and not inside_window(contact.channel, aware(contact.updated_at), now):
        return f"outside the {contact.channel} window"
    return None


async def _send(due: _Due, now: dt.datetime) -> str:
    """Send one claimed alert; the state it ends in."""
    contact = await contact_for(due.sender_id)
    channel = contact.channel if contact is not None else ""
    if channel:
        await limit_for(channel).send.acquire()
    text = alert_text(due.posting, messages(due.language), careers_url_of_city(), compact=channel == "sms")
    try:
        await deliver(due.sender_id, text)
    except NotDeliverable as reason:
        await _settle(due.id, SKIPPED, str(reason)[:500])
        return SKIPPED
    except Exception as error:  # a channel API failure: retried unless it cannot succeed
        attempts = due.attempts + 1
        if is_permanent(error) or attempts >= MAX_ATTEMPTS:
            logger.warning("job alert %s failed for good: %s", due.id, short(error))
            await _settle(due.id, FAILED, short(error))
            return FAILED
        delay = RETRY_SECONDS * 2 ** (attempts - 1)
        logger.info("job alert %s failed (attempt %d), retry in %.0fs: %s", due.id, attempts, delay, short(error))
        await _settle(due.id, PENDING, short(error), now + dt.timedelta(seconds=delay))
        return PENDING
    await _settle(due.id, SENT)
    return SENT


async def deliver_job_alerts(limit: int = 200, now: Optional[dt.datetime] = None) -> int:
    """Send the job alerts that are due, each once; how many were sent."""
    moment = now or utcnow()
    sent = 0
    for due in await database().run(lambda connection: _due(connection, moment, limit)):
        reason = await _skip_reason(due, moment)
        if reason is not None:
            await _settle(due.id, SKIPPED, reason)
            continue
        if not await database().run(partial(_claim, due=due, now=moment)):
            continue
        if await _send(due, moment) == SENT:
            sent += 1
    return sent
