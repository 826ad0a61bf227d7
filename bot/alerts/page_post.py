"""An alert's post on the city's Facebook Page: what it says, and its row from queued to published.

Staff choose it when they write the alert (`AlertContent.publish_to_page`, part
of what the second supervisor approves). The row is written when the alert is
sent (`queue_in`, in the sending transaction), so nothing is posted before the
two-person approval; an alert an admin sent without one is not posted (its
row says why). The worker (bot.alerts.delivery.page) then posts it once:

- `pending`: due at `next_attempt_at`;
- `posting`: claimed, committed before Meta is called (with the job and an
  expiry), so a second worker or a retry cannot post it again;
- `published`: Meta's post id stored;
- `failed`: refused for good, or still failing after ALERT_MAX_ATTEMPTS (the error kept);
- `unconfirmed`: claimed by a job that stopped, or whose call got no answer:
  the post may be on the Page, so it is not posted again on its own.

The post is every city language's headline (the city, how serious, where, the
staff's words), the default language first, then each other language staff
wrote a text in, one after another; the FAQ answer is the post's link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import store, texts
from bot.alerts.store import DELIVERING, DONE, QUEUED, Alert, AlertContent, AlertError
from bot.db.engine import utcnow
from bot.db.schema import alert_page_posts as posts
from bot.db.schema import alerts
from bot.handoff.store import write_audit
from bot.i18n.languages import city_languages, default_language
from bot.i18n.messages import messages

PENDING = "pending"
POSTING = "posting"
PUBLISHED = "published"
FAILED = "failed"
UNCONFIRMED = "unconfirmed"
STATES = (PENDING, POSTING, PUBLISHED, FAILED, UNCONFIRMED)

# Audit log actions of the post's outcome (the choice itself is in the alert's draft and send lines).
PUBLISHED_ACTION = "alert_page_published"
FAILED_ACTION = "alert_page_failed"
WORKER = "(worker)"  # the audit log's actor for what the worker did
NOT_APPROVED = "not published: the alert was sent without a second supervisor's approval, which a Page post needs"
POST_URL = "https://www.facebook.com/{post_id}"


@dataclass(frozen=True)
class PagePost:
    """Where an alert's Page post stands."""

    alert_id: int
    state: str
    attempts: int
    next_attempt_at: Optional[datetime]
    post_id: Optional[str]
    published_at: Optional[datetime]
    last_error: Optional[str]

    @property
    def url(self) -> Optional[str]:
        """The post on Facebook (a Page post's id, "<page>_<post>", is its address)."""
        return POST_URL.format(post_id=self.post_id) if self.post_id else None

    @classmethod
    def from_row(cls, row: Any) -> "PagePost":
        return cls(
            row.alert_id,
            row.state,
            row.attempts,
            store.aware(row.next_attempt_at),
            row.post_id,
            store.aware(row.published_at),
            row.last_error,
        )

    def as_dict(self) -> Dict[str, Any]:
        found = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}
        return {**found, "url": self.url}


def page_problem() -> Optional[str]:
    """Why alerts cannot be posted on the city's Facebook Page here (None: they can)."""
    from bot.channels.messenger_api import MessengerSettings

    if MessengerSettings.from_env().can_send:
        return None
    return "the city's Facebook Page is not set up (MESSENGER_PAGE_ACCESS_TOKEN and MESSENGER_PAGE_ID)"


def check_choice(content: AlertContent) -> None:
    """Refuse (400) to write an alert for the Page when the Page is not set up."""
    problem = page_problem() if content.publish_to_page else None
    if problem:
        raise AlertError(f"this alert cannot be published on the Facebook Page: {problem}")


def page_message(alert: Alert) -> str:
    """The post's text: each language's headline, the default language's first, then those staff wrote."""
    default = default_language()
    shown = [default] + [code for code in city_languages() if code != default and alert.translations.get(code)]
    return "\n\n".join(texts.headline(alert, messages(code)) for code in shown)


def queue_in(connection: Connection, alert: Alert, approved: bool) -> None:
    """In the transaction that sends `alert`: its Page post, due now (or refused, when nobody approved it)."""
    if not alert.publish_to_page:
        return
    state, error = (PENDING, None) if approved else (FAILED, NOT_APPROVED)
    connection.execute(
        posts.insert().values(alert_id=alert.id, state=state, attempts=0, next_attempt_at=utcnow(), last_error=error)
    )


def post_in(connection: Connection, alert_id: int) -> Optional[PagePost]:
    row = connection.execute(sa.select(posts).where(posts.c.alert_id == alert_id)).first()
    return PagePost.from_row(row) if row is not None else None


async def page_post(alert_id: int) -> Optional[PagePost]:
    """An alert's Page post (None: not to be published, or not sent yet)."""
    return await store.run(lambda c: post_in(c, alert_id))


# --- the worker's side ------------------------------------------------------------------


def due(connection: Connection) -> List[int]:
    """Alerts whose post is due now, of alerts sent and not cancelled (a resume makes them due again)."""
    rows = connection.execute(
        sa.select(posts.c.alert_id)
        .select_from(posts.join(alerts, alerts.c.id == posts.c.alert_id))
        .where(posts.c.state == PENDING)
        .where(posts.c.next_attempt_at <= utcnow())
        .where(alerts.c.state.in_([QUEUED, DELIVERING, DONE]))
        .order_by(posts.c.alert_id)
    ).all()
    return [row.alert_id for row in rows]


def expire_claims(connection: Connection) -> int:
    """Posts claimed by a job that stopped: unconfirmed (they may be on the Page); how many."""
    return int(
        connection.execute(
            posts.update()
            .where(posts.c.state == POSTING)
            .where(posts.c.claimed_until < utcnow())
            .values(state=UNCONFIRMED, last_error="the job posting it stopped before Meta answered")
        ).rowcount
        or 0
    )


def claim(connection: Connection, alert_id: int, job_id: str, seconds: float) -> Optional[Tuple[Alert, PagePost]]:
    """Take the post for one attempt, committed before Meta is called (None: not ours to post)."""
    taken = connection.execute(
        posts.update()
        .where(posts.c.alert_id == alert_id)
        .where(posts.c.state == PENDING)
        .values(
            state=POSTING,
            claimed_by=job_id,
            claimed_until=utcnow() + timedelta(seconds=seconds),
            attempts=posts.c.attempts + 1,
        )
    ).rowcount
    alert = store.load_alert(connection, alert_id) if taken == 1 else None
    post = post_in(connection, alert_id)
    return (alert, post) if alert is not None and post is not None else None


def record(connection: Connection, alert_id: int, job_id: str, state: str, **values: Any) -> Optional[PagePost]:
    """What the attempt came to, if the claim is still this job's; published and failed posts are audited."""
    done = connection.execute(
        posts.update()
        .where(posts.c.alert_id == alert_id)
        .where(posts.c.state == POSTING)
        .where(posts.c.claimed_by == job_id)
        .values(state=state, claimed_by=None if state == PENDING else job_id, claimed_until=None, **values)
    ).rowcount
    post = post_in(connection, alert_id)
    if done != 1 or post is None:
        return None
    if state == PUBLISHED:
        write_audit(connection, WORKER, PUBLISHED_ACTION, detail=f"alert {alert_id}, post {post.post_id}")
    elif state in (FAILED, UNCONFIRMED):
        outcome = f"alert {alert_id}, {state} after {post.attempts} attempt(s): {post.last_error or ''}"
        write_audit(connection, WORKER, FAILED_ACTION, detail=outcome)
    return post
