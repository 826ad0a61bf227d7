"""The retention job: transcripts and residents' details older than the limit are forgotten.

Run once a day by the worker (bot.retention.schedule) and by `citybot
retention run [--dry-run]`. What happens to a conversation whose rows are
older than the limit (RETENTION_DAYS, see bot.retention.policy):

- kept whole while it is on a staff hold, tied to an open request (a report
  in the outbox or not closed by the back office) or in a handoff not over;
- otherwise its Rasa events older than the limit are anonymised
  (bot.retention.events), except the latest session of a conversation still
  in use (Rasa reads it), and its web chat messages, staff notes and SMS
  choices older than the limit are deleted;
- satisfaction survey comments older than the limit are emptied, whoever wrote
  them (the scores stay for the dashboard: bot.survey.store);
- once nothing of it is newer than the limit, who the resident was is
  forgotten too (bot.retention.conversations.forget_residents).

Aggregates survive by keeping the events, anonymised, rather than a separate
table of totals: the dashboard counts conversations per day, channel and
language (and intents, fallbacks, handoffs) from one source, whatever the
date range, and the anonymous id keeps the channel. docs/privacy.md says more.

Work goes in batches of conversations, each batch one transaction per database,
in a worker thread (never on the event loop). A dry run does the same work and
rolls every transaction back, so its counts are exactly what a run would do.
Only counts are logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Callable, Dict, List, Optional, Set, TypeVar

from sqlalchemy.engine import Connection, Engine

from bot.channels.identity import anonymous_sender_id, channel_of
from bot.db.engine import database, default_tracker_url, utcnow
from bot.retention import conversations, events
from bot.retention.conversations import OPEN_HANDOFF, OPEN_REQUEST
from bot.retention.policy import cutoff, retention_days
from bot.survey import store as survey_store

logger = logging.getLogger(__name__)

T = TypeVar("T")
BATCH = 100  # conversations per transaction


@dataclass
class RetentionCounts:
    """What one run did (or, dry, would do): numbers only, never whose."""

    checked: int = 0  # conversations with something older than the limit
    kept_on_hold: int = 0
    kept_for_open_request: int = 0
    kept_for_open_handoff: int = 0
    residents_forgotten: int = 0
    events_anonymised: int = 0
    webchat_messages_deleted: int = 0
    webchat_photos_deleted: int = 0
    handoff_notes_deleted: int = 0
    sms_choices_deleted: int = 0
    messenger_photos_deleted: int = 0
    contacts_deleted: int = 0
    languages_deleted: int = 0
    subscriptions_deleted: int = 0
    notifications_deleted: int = 0
    reports_anonymised: int = 0
    handoffs_anonymised: int = 0
    alert_deliveries_anonymised: int = 0
    survey_comments_forgotten: int = 0
    dry_run: bool = field(default=False, compare=False)
    stopped: bool = field(default=False, compare=False)  # stopped before the end (the worker stopping)

    def add(self, counts: Dict[str, int]) -> None:
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> Dict[str, int]:
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.compare}

    def summary(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.as_dict().items())


KEPT_COUNTS = {
    conversations.ON_HOLD: "kept_on_hold",
    OPEN_REQUEST: "kept_for_open_request",
    OPEN_HANDOFF: "kept_for_open_handoff",
}


def in_transaction(engine: Engine, work: Callable[[Connection], T], commit: bool) -> T:
    """`work(connection)` in one transaction, committed or (a dry run) rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            result = work(connection)
        except BaseException:
            transaction.rollback()
            raise
        if commit:
            transaction.commit()
        else:
            transaction.rollback()
        return result


class RetentionRun:
    """One pass over every conversation with something older than the limit."""

    def __init__(self, app: Engine, tracker: Optional[Engine], limit: datetime, dry_run: bool) -> None:
        self.app = app
        self.tracker = tracker
        self.limit = limit
        self.limit_timestamp = limit.timestamp()
        self.commit = not dry_run
        self.counts = RetentionCounts(dry_run=dry_run)

    def candidates(self) -> Set[str]:
        found = in_transaction(self.app, lambda c: conversations.senders_with_rows_before(c, self.limit), commit=False)
        if self.tracker is not None:
            found.update(
                in_transaction(
                    self.tracker, lambda c: events.senders_with_events_before(c, self.limit_timestamp), commit=False
                )
            )
        return found

    def run(self, stopping: Callable[[], bool] = lambda: False) -> RetentionCounts:
        """Every batch, unless `stopping()` says to stop (between batches: each is whole or not done)."""
        for batch in conversations.batches(self.candidates(), BATCH):
            if stopping():
                self.counts.stopped = True
                break
            self.batch(batch)
        if not self.counts.stopped:
            self.forget_survey_comments()
        return self.counts

    def forget_survey_comments(self) -> None:
        """Survey comments are the resident's own words, kept apart from any conversation: past the limit, gone."""
        self.counts.survey_comments_forgotten += in_transaction(
            self.app, lambda c: survey_store.forget_comments_before(c, self.limit), self.commit
        )

    def batch(self, sender_ids: List[str]) -> None:
        def read(connection: Connection) -> tuple:
            return (
                conversations.protected(connection, sender_ids),
                conversations.active_since(connection, sender_ids, self.limit),
                conversations.alert_subscribers(connection, sender_ids),
            )

        kept, active, subscribers = in_transaction(self.app, read, commit=False)
        self.counts.checked += len(sender_ids)
        for reason in kept.values():
            self.counts.add({KEPT_COUNTS[reason]: 1})
        free = [sender_id for sender_id in sender_ids if sender_id not in kept]
        if not free:
            return
        anonymous = {sender_id: anonymous_sender_id(channel_of(sender_id)) for sender_id in free}
        expired = self.anonymise_events(free, active, anonymous)
        forgotten = {sender_id: anonymous[sender_id] for sender_id in expired if sender_id not in subscribers}

        def forget(connection: Connection) -> Dict[str, int]:
            counts = conversations.forget_transcripts(connection, free, self.limit)
            if forgotten:
                counts.update(conversations.forget_residents(connection, forgotten, self.limit))
            return counts

        self.counts.add(in_transaction(self.app, forget, self.commit))
        self.counts.residents_forgotten += len(forgotten)

    def anonymise_events(self, sender_ids: List[str], active: Set[str], anonymous: Dict[str, str]) -> List[str]:
        """Anonymise the old events of these conversations; returns those with nothing newer than the limit."""
        if self.tracker is None:
            return [sender_id for sender_id in sender_ids if sender_id not in active]

        def work(connection: Connection) -> List[str]:
            times = events.conversation_times(connection, sender_ids)
            expired = []
            for sender_id in sender_ids:
                last, session = times.get(sender_id, (0.0, None))
                if sender_id not in active and last < self.limit_timestamp:
                    expired.append(sender_id)
                    before: Optional[float] = self.limit_timestamp
                else:  # still in use: Rasa reads its latest session, which stays whole
                    before = None if session is None else min(session, self.limit_timestamp)
                if before is not None:
                    self.counts.events_anonymised += events.anonymise_before(
                        connection, sender_id, anonymous[sender_id], before
                    )
            return expired

        return in_transaction(self.tracker, work, self.commit)


async def run_retention(
    dry_run: bool = False, now: Optional[datetime] = None, stopping: Callable[[], bool] = lambda: False
) -> RetentionCounts:
    """Forget what is older than the limit (dry: only count it); logs and returns the counts.

    `stopping()` is asked between batches (from a worker thread): a stopping worker stops early.
    """
    days = await asyncio.to_thread(retention_days)
    limit = cutoff(now or utcnow(), days)

    def work() -> RetentionCounts:
        tracker = events.open_tracker(default_tracker_url())
        try:
            return RetentionRun(database().engine, tracker, limit, dry_run).run(stopping)
        finally:
            if tracker is not None:
                tracker.dispose()

    counts = await asyncio.to_thread(work)
    what = ("dry run" if dry_run else "run") + (", stopped early" if counts.stopped else "")
    logger.info("retention %s (%d days): %s", what, days, counts.summary())
    return counts
