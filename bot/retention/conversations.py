"""The assistant's own rows about each conversation: which are old, which are protected, and forgetting them.

A conversation is known by its Rasa conversation id (`sender_id`) in every
table. Two kinds of rows are forgotten (see docs/privacy.md):

- transcripts, each on its own age: web chat messages and photos, staff notes on a
  handoff that is over, and numbered SMS choices older than the limit;
- the resident behind a conversation, once nothing of it is newer than the
  limit: how to reach them (`contacts`, and the phone number they gave for
  updates, `update_fallbacks`), their language, the requests they
  follow and the updates owed to them go; reports, handoffs and alert
  deliveries stay (the dashboard counts them) under the conversation's new
  anonymous id, reports without what the resident wrote or their contact details
  (their times stay: made, filed, and `closed_at`, the dashboard's time to close).

A resident subscribed to crisis alerts or job alerts keeps their contact and
language (the alerts are a service they asked for, ended by unsubscribing); only
their transcripts go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Dict, Iterable, List, Mapping, Set

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.identity import ANONYMOUS_PREFIX
from bot.db.schema import (
    alert_deliveries,
    alert_subscriptions,
    contacts,
    handoff_notes,
    handoffs,
    job_notifications,
    job_subscriptions,
    messenger_media,
    report_outbox,
    report_subscriptions,
    resident_languages,
    retention_holds,
    sms_choices,
    status_notifications,
    update_fallbacks,
    webchat_messages,
    webchat_photos,
)
from bot.handoff.store import RESOLVED
from bot.reports.outbox import AWAITING_ID, FILED, PENDING

# Why a conversation is kept whole past the limit, in the order they are reported.
ON_HOLD = "on_hold"
OPEN_REQUEST = "open_request"
OPEN_HANDOFF = "open_handoff"
CLOSED = "closed"  # Open311's status of a request that is done

# Each table's conversation id and the time its rows were last written.
ACTIVITY = (
    (contacts.c.sender_id, contacts.c.updated_at),
    (update_fallbacks.c.sender_id, update_fallbacks.c.given_at),
    (resident_languages.c.sender_id, resident_languages.c.updated_at),
    (sms_choices.c.sender_id, sms_choices.c.updated_at),
    (messenger_media.c.sender_id, messenger_media.c.created_at),
    (webchat_messages.c.sender_id, webchat_messages.c.created_at),
    (webchat_photos.c.sender_id, webchat_photos.c.created_at),
    (handoffs.c.sender_id, handoffs.c.updated_at),
    (report_outbox.c.sender_id, report_outbox.c.created_at),
    (report_subscriptions.c.sender_id, report_subscriptions.c.created_at),
    (status_notifications.c.sender_id, status_notifications.c.created_at),
)


def not_anonymous(column: sa.Column) -> sa.sql.ColumnElement:
    return sa.and_(column.is_not(None), ~column.startswith(ANONYMOUS_PREFIX, autoescape=True))


def senders_with_rows_before(connection: Connection, cutoff: datetime) -> Set[str]:
    """Conversations with any row (or staff note) in the assistant's tables older than the limit."""
    found: Set[str] = set()
    old_notes = (
        sa.select(handoffs.c.sender_id)
        .join(handoff_notes, handoff_notes.c.handoff_id == handoffs.c.id)
        .where(handoff_notes.c.created_at < cutoff, not_anonymous(handoffs.c.sender_id))
    )
    for query in [
        *(sa.select(sender).where(at < cutoff, not_anonymous(sender)) for sender, at in ACTIVITY),
        old_notes,
    ]:
        found.update(row[0] for row in connection.execute(query.distinct()))
    return found


def active_since(connection: Connection, sender_ids: List[str], cutoff: datetime) -> Set[str]:
    """Which of these conversations have a row written since the limit (a resident still in touch)."""
    found: Set[str] = set()
    for sender, at in ACTIVITY:
        rows = connection.execute(sa.select(sender).where(sender.in_(sender_ids), at >= cutoff).distinct())
        found.update(row[0] for row in rows)
    return found


def protected(connection: Connection, sender_ids: List[str]) -> Dict[str, str]:
    """Conversations kept whole past the limit, and why: a staff hold, an open request, a handoff not over.

    A request is open while its report waits in the outbox, and once filed until
    the back office says it is closed (the worker's status poll keeps
    `report_subscriptions.last_status` current); a filed report whose status was
    never read counts as open. A request the resident follows counts too.
    """
    why: Dict[str, str] = {}

    def mark(reason: str, query: sa.sql.Select) -> None:
        for row in connection.execute(query.distinct()):
            why.setdefault(row[0], reason)

    mark(ON_HOLD, sa.select(retention_holds.c.conversation_id).where(retention_holds.c.conversation_id.in_(sender_ids)))
    known_closed = sa.exists().where(
        report_subscriptions.c.sender_id == report_outbox.c.sender_id,
        report_subscriptions.c.service_request_id == report_outbox.c.service_request_id,
        sa.func.lower(report_subscriptions.c.last_status) == CLOSED,
    )
    mark(
        OPEN_REQUEST,
        sa.select(report_outbox.c.sender_id).where(
            report_outbox.c.sender_id.in_(sender_ids),
            sa.or_(
                report_outbox.c.state.in_([PENDING, AWAITING_ID]),
                sa.and_(report_outbox.c.state == FILED, ~known_closed),
            ),
        ),
    )
    mark(
        OPEN_REQUEST,
        sa.select(report_subscriptions.c.sender_id).where(
            report_subscriptions.c.sender_id.in_(sender_ids),
            sa.or_(
                report_subscriptions.c.last_status.is_(None),
                sa.func.lower(report_subscriptions.c.last_status) != CLOSED,
            ),
        ),
    )
    mark(
        OPEN_HANDOFF,
        sa.select(handoffs.c.sender_id).where(handoffs.c.sender_id.in_(sender_ids), handoffs.c.state != RESOLVED),
    )
    return why


def alert_subscribers(connection: Connection, sender_ids: List[str]) -> Set[str]:
    """Which of these conversations get crisis alerts or job alerts."""
    found: Set[str] = set()
    for sender in (alert_subscriptions.c.sender_id, job_subscriptions.c.sender_id):
        found.update(row[0] for row in connection.execute(sa.select(sender).where(sender.in_(sender_ids)).distinct()))
    return found


def forget_transcripts(connection: Connection, sender_ids: List[str], cutoff: datetime) -> Dict[str, int]:
    """Delete the web chat messages and photos, notes of finished handoffs, SMS choices and Messenger photo links
    older than the limit."""
    finished = sa.select(handoffs.c.id).where(handoffs.c.sender_id.in_(sender_ids), handoffs.c.state == RESOLVED)
    return {
        "webchat_messages_deleted": connection.execute(
            webchat_messages.delete().where(
                webchat_messages.c.sender_id.in_(sender_ids), webchat_messages.c.created_at < cutoff
            )
        ).rowcount,
        "webchat_photos_deleted": connection.execute(
            webchat_photos.delete().where(
                webchat_photos.c.sender_id.in_(sender_ids), webchat_photos.c.created_at < cutoff
            )
        ).rowcount,
        "handoff_notes_deleted": connection.execute(
            handoff_notes.delete().where(
                handoff_notes.c.handoff_id.in_(finished.scalar_subquery()), handoff_notes.c.created_at < cutoff
            )
        ).rowcount,
        "sms_choices_deleted": connection.execute(
            sms_choices.delete().where(sms_choices.c.sender_id.in_(sender_ids), sms_choices.c.updated_at < cutoff)
        ).rowcount,
        "messenger_photos_deleted": connection.execute(
            messenger_media.delete().where(
                messenger_media.c.sender_id.in_(sender_ids), messenger_media.c.created_at < cutoff
            )
        ).rowcount,
    }


def forget_residents(connection: Connection, anonymous_ids: Mapping[str, str], cutoff: datetime) -> Dict[str, int]:
    """Forget who was behind each conversation (id -> its new anonymous id); what counts stays, anonymous.

    Each delete is of rows not written since the limit, so a resident who
    writes again while this runs keeps what that message stored.
    """
    ids = list(anonymous_ids)
    counts = {
        "contacts_deleted": connection.execute(
            contacts.delete().where(contacts.c.sender_id.in_(ids), contacts.c.updated_at < cutoff)
        ).rowcount
        + connection.execute(
            update_fallbacks.delete().where(update_fallbacks.c.sender_id.in_(ids), update_fallbacks.c.given_at < cutoff)
        ).rowcount,
        "languages_deleted": connection.execute(
            resident_languages.delete().where(
                resident_languages.c.sender_id.in_(ids), resident_languages.c.updated_at < cutoff
            )
        ).rowcount,
        "subscriptions_deleted": connection.execute(
            report_subscriptions.delete().where(report_subscriptions.c.sender_id.in_(ids))
        ).rowcount,
        "notifications_deleted": connection.execute(
            status_notifications.delete().where(status_notifications.c.sender_id.in_(ids))
        ).rowcount
        + connection.execute(job_notifications.delete().where(job_notifications.c.sender_id.in_(ids))).rowcount,
        "reports_anonymised": 0,
        "handoffs_anonymised": 0,
        "alert_deliveries_anonymised": 0,
    }
    for sender_id, anonymous_id in anonymous_ids.items():
        counts["reports_anonymised"] += connection.execute(
            # The back office holds the request; the outbox no longer needs what the resident wrote.
            report_outbox.update()
            .where(report_outbox.c.sender_id == sender_id)
            .values(sender_id=anonymous_id, fields="{}", last_error=None)
        ).rowcount
        counts["handoffs_anonymised"] += connection.execute(
            handoffs.update().where(handoffs.c.sender_id == sender_id).values(sender_id=anonymous_id)
        ).rowcount
        counts["alert_deliveries_anonymised"] += connection.execute(
            alert_deliveries.update().where(alert_deliveries.c.sender_id == sender_id).values(sender_id=anonymous_id)
        ).rowcount
    return counts


def batches(sender_ids: Iterable[str], size: int) -> Iterable[List[str]]:
    """Conversation ids in sorted batches of `size`."""
    ordered = sorted(sender_ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
