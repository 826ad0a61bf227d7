"""Residents' job alerts: new postings of a department, or with a keyword, on the resident's own channel.

A subscription names the conversation (its pseudonymous sender id), the channel
and the language the alerts are written in, and one department (as the feed
names it: the action resolves the resident's words with bot.jobs.departments)
or one keyword ("driver"). Unsubscribing takes one message: everything at once,
or one department or keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, utcnow
from bot.db.schema import job_subscriptions as subscriptions
from bot.jobs.postings import Posting
from bot.jobs.queries import with_keyword

MAX_KEYWORD = 128


@dataclass(frozen=True)
class JobSubscription:
    """What one conversation wants to hear about: a department or a keyword (the other is None)."""

    sender_id: str
    channel: str
    language: str
    department: Optional[str]
    keyword: Optional[str]

    def wants(self, posting: Posting) -> bool:
        """Whether a new posting is what this subscription asked for."""
        if self.department:
            return posting.department == self.department
        return bool(self.keyword) and bool(with_keyword([posting], self.keyword or ""))


def _checked(department: Optional[str], keyword: Optional[str]) -> tuple:
    department = (department or "").strip()[:256]
    keyword = " ".join((keyword or "").split()).casefold()[:MAX_KEYWORD]
    if bool(department) == bool(keyword):
        raise ValueError("a job alert is for one department or one keyword")
    return department, keyword


def _subscription(row: sa.engine.Row) -> JobSubscription:
    return JobSubscription(row.sender_id, row.channel, row.language, row.department or None, row.keyword or None)


async def subscribe_to_jobs(
    sender_id: str, channel: str, language: str, department: Optional[str] = None, keyword: Optional[str] = None
) -> bool:
    """Subscribe a conversation to new postings of `department` or with `keyword`; False when it already was.

    Subscribing again keeps one subscription, in the language and channel given last.
    """
    wanted_department, wanted_keyword = _checked(department, keyword)
    values = dict(channel=channel, language=language)

    def store(connection: Connection) -> bool:
        same = sa.and_(
            subscriptions.c.sender_id == sender_id,
            subscriptions.c.department == wanted_department,
            subscriptions.c.keyword == wanted_keyword,
        )
        if connection.execute(subscriptions.update().where(same).values(**values)).rowcount:
            return False
        try:
            with connection.begin_nested():
                connection.execute(
                    subscriptions.insert().values(
                        sender_id=sender_id,
                        department=wanted_department,
                        keyword=wanted_keyword,
                        created_at=utcnow(),
                        **values,
                    )
                )
        except sa.exc.IntegrityError:
            return False  # a concurrent request stored the same subscription
        return True

    return await database().run(store)


async def unsubscribe_from_jobs(sender_id: str, department: Optional[str] = None, keyword: Optional[str] = None) -> int:
    """Stop a conversation's job alerts: of one department or keyword, or (neither given) all; how many ended."""
    query = subscriptions.delete().where(subscriptions.c.sender_id == sender_id)
    if department or keyword:
        wanted_department, wanted_keyword = _checked(department, keyword)
        query = query.where(subscriptions.c.department == wanted_department, subscriptions.c.keyword == wanted_keyword)
    return await database().run(lambda connection: connection.execute(query).rowcount)


def subscriptions_in(connection: Connection, sender_ids: Optional[Sequence[str]] = None) -> List[JobSubscription]:
    """Every job subscription (of these conversations only, when given), in the caller's transaction."""
    query = sa.select(subscriptions).order_by(subscriptions.c.id)
    if sender_ids is not None:
        query = query.where(subscriptions.c.sender_id.in_(list(sender_ids)))
    return [_subscription(row) for row in connection.execute(query)]


async def job_subscriptions_of(sender_id: str) -> List[JobSubscription]:
    """A conversation's job subscriptions, oldest first."""
    return await database().run(lambda connection: subscriptions_in(connection, [sender_id]))


async def job_subscriber_count() -> int:
    """How many conversations get job alerts (for the staff console)."""
    query = sa.select(sa.func.count(sa.distinct(subscriptions.c.sender_id)))
    return int(await database().run(lambda connection: connection.execute(query).scalar() or 0))
