"""Alert subscriptions, alerts and their deliveries, in the assistant's database.

- `alert_subscriptions`: what each conversation (pseudonymous sender id) wants:
  a topic (weather|water|roads|all) in a zone (north|east|south|west|all).
- `alerts`: what staff wrote; `lease_owner`/`lease_until` say which process is
  delivering it (one at a time, taken over when the lease runs out).
- `alert_deliveries`: one row per alert and subscriber (unique), written for
  every matching, reachable, not opted-out subscriber in the same transaction
  that creates the alert. A row is pending, then `sending` (claimed, committed
  before the message leaves), then sent, failed (after retries, or refused for
  good) or skipped (opted out or unsubscribed since). A row still `sending`
  when its process died is `unconfirmed`: the message may or may not have left,
  and it is not sent again unless staff ask (`resend_unconfirmed`), so nobody
  gets an alert twice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts.words import ALL, SEVERITIES, TOPICS, ZONES, collapse, describe
from bot.db.engine import database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alert_subscriptions as subscriptions
from bot.db.schema import alerts, contacts

logger = logging.getLogger(__name__)

__all__ = [
    "ALL",
    "TOPICS",
    "ZONES",
    "SEVERITIES",
    "AlertError",
    "Alert",
    "AlertStatus",
    "Preview",
    "SubscriptionChange",
    "subscribe",
    "unsubscribe",
    "subscriptions_of",
    "preview_alert",
    "create_alert",
    "get_alert",
    "list_alerts",
    "alert_status",
    "cancel_alert",
    "resend_unconfirmed",
    "alert_message",
]

MAX_TEXT = 1200  # characters: a few SMS segments at most

# Delivery states.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
UNCONFIRMED = "unconfirmed"
DELIVERY_STATES = (PENDING, SENDING, SENT, FAILED, SKIPPED, UNCONFIRMED)

# Alert states.
QUEUED = "queued"  # written, nothing sent yet
DELIVERING = "sending"  # a delivery job has started (and may have been interrupted)
DONE = "done"  # no delivery left pending
CANCELLED = "cancelled"


async def run(work: Any) -> Any:
    """Run `work(connection)` in one transaction of the assistant's database, off the event loop."""
    return await database().run(work)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
@overload
def aware(moment: Optional[datetime]) -> Optional[datetime]: ...
def aware(moment: Optional[datetime]) -> Optional[datetime]:
    """SQLite gives datetimes back without their zone: they are UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


class AlertError(ValueError):
    """A staff request that cannot be done as asked (unknown topic, empty text, unknown alert...)."""


# --- subscriptions -------------------------------------------------------------

Pair = Tuple[str, str]
FULL: Set[Pair] = {(t, z) for t in TOPICS for z in ZONES}


def _concrete(pair: Pair) -> Set[Pair]:
    topic, zone = pair
    return {(t, z) for t in (TOPICS if topic == ALL else (topic,)) for z in (ZONES if zone == ALL else (zone,))}


def _covers(wide: Pair, narrow: Pair) -> bool:
    return wide[0] in (narrow[0], ALL) and wide[1] in (narrow[1], ALL)


def minimal(pairs: Iterable[Pair]) -> Set[Pair]:
    """Drop subscriptions another one already covers (water/north under all/north)."""
    unique = set(pairs)
    return {p for p in unique if not any(q != p and _covers(q, p) for q in unique)}


def compress(concrete: Set[Pair]) -> Set[Pair]:
    """Concrete topic/zone pairs as few rows as possible, using "all" where a whole row or column is there."""
    if concrete >= FULL:
        return {(ALL, ALL)}
    rows: Set[Pair] = set()
    rows |= {(t, ALL) for t in TOPICS if all((t, z) in concrete for z in ZONES)}
    rows |= {(ALL, z) for z in ZONES if all((t, z) in concrete for t in TOPICS)}
    rows |= {p for p in concrete if not any(_covers(r, p) for r in rows)}
    return minimal(rows)


def _checked(values: Optional[Sequence[str]], allowed: Sequence[str], what: str) -> Optional[List[str]]:
    if values is None:
        return None
    values = [v for v in values if v]
    bad = [v for v in values if v not in allowed and v != ALL]
    if bad:
        raise AlertError(f"unknown {what}: {', '.join(bad)} (use {', '.join(allowed)} or all)")
    return collapse(values)


def after_subscribe(current: Iterable[Pair], topics: Sequence[str], zones: Sequence[str]) -> Set[Pair]:
    return minimal(set(current) | {(t, z) for t in topics for z in zones})


def after_unsubscribe(
    current: Iterable[Pair], topics: Optional[Sequence[str]], zones: Optional[Sequence[str]]
) -> Set[Pair]:
    """What is left after "stop [topic] alerts [for zone]"; no topic and no zone stops everything."""
    if topics is None and zones is None:
        return set()
    removed: Set[Pair] = set()
    for t in topics or [ALL]:
        for z in zones or [ALL]:
            removed |= _concrete((t, z))
    kept: Set[Pair] = set()
    rest: Set[Pair] = set()
    for pair in current:
        if _concrete(pair) & removed:
            rest |= _concrete(pair) - removed
        else:
            kept.add(pair)  # untouched: keeps its "all", which also covers topics added later
    return minimal(kept | compress(rest)) if rest else minimal(kept)


@dataclass(frozen=True)
class SubscriptionChange:
    """A conversation's subscriptions before and after a (un)subscribe."""

    before: Tuple[Pair, ...]
    after: Tuple[Pair, ...]

    @property
    def changed(self) -> bool:
        return set(self.before) != set(self.after)

    @property
    def subscribed(self) -> bool:
        return bool(self.after)

    def describe(self) -> str:
        return describe(self.after)


def _pairs(connection: Connection, sender_id: str) -> Set[Pair]:
    rows = connection.execute(
        sa.select(subscriptions.c.topic, subscriptions.c.zone).where(subscriptions.c.sender_id == sender_id)
    ).all()
    return {(row.topic, row.zone) for row in rows}


def _store_pairs(connection: Connection, sender_id: str, wanted: Set[Pair]) -> None:
    current = _pairs(connection, sender_id)
    for topic, zone in current - wanted:
        connection.execute(
            subscriptions.delete()
            .where(subscriptions.c.sender_id == sender_id)
            .where(subscriptions.c.topic == topic)
            .where(subscriptions.c.zone == zone)
        )
    for topic, zone in wanted - current:
        try:
            with connection.begin_nested():
                connection.execute(
                    subscriptions.insert().values(sender_id=sender_id, topic=topic, zone=zone, created_at=utcnow())
                )
        except sa.exc.IntegrityError:
            pass  # a concurrent request stored the same row


def _sorted(pairs: Iterable[Pair]) -> Tuple[Pair, ...]:
    return tuple(sorted(pairs))


async def subscribe(
    sender_id: str, topics: Optional[Sequence[str]] = None, zones: Optional[Sequence[str]] = None
) -> SubscriptionChange:
    """Subscribe a conversation to topics in zones (none given: all of them)."""
    topic_list = _checked(topics, TOPICS, "topic") or [ALL]
    zone_list = _checked(zones, ZONES, "zone") or [ALL]

    def change(connection: Connection) -> SubscriptionChange:
        before = _pairs(connection, sender_id)
        after = after_subscribe(before, topic_list, zone_list)
        _store_pairs(connection, sender_id, after)
        return SubscriptionChange(_sorted(before), _sorted(after))

    return await run(change)


async def unsubscribe(
    sender_id: str, topics: Optional[Sequence[str]] = None, zones: Optional[Sequence[str]] = None
) -> SubscriptionChange:
    """Stop some alerts (a topic, a zone) or, with neither, all of them."""
    topic_list = _checked(topics, TOPICS, "topic") if topics else None
    zone_list = _checked(zones, ZONES, "zone") if zones else None

    def change(connection: Connection) -> SubscriptionChange:
        before = _pairs(connection, sender_id)
        after = after_unsubscribe(before, topic_list, zone_list)
        _store_pairs(connection, sender_id, after)
        return SubscriptionChange(_sorted(before), _sorted(after))

    return await run(change)


async def subscriptions_of(sender_id: str) -> List[Pair]:
    return list(_sorted(await run(lambda c: _pairs(c, sender_id))))


# --- alerts ---------------------------------------------------------------------


def matches(topic: str, zone: str) -> Any:
    """SQL condition: a subscription that wants an alert on `topic` in `zone`.

    An alert for all topics (a general emergency) reaches every subscriber of
    its zone; a citywide alert reaches every zone.
    """
    conditions = []
    if topic != ALL:
        conditions.append(subscriptions.c.topic.in_([topic, ALL]))
    if zone != ALL:
        conditions.append(subscriptions.c.zone.in_([zone, ALL]))
    return sa.and_(sa.true(), *conditions)


def validate(topic: str, zone: str, severity: str = "warning", text: str = "x") -> Tuple[str, str, str, str]:
    topic, zone = (topic or "").strip().lower(), (zone or "").strip().lower()
    severity = (severity or "").strip().lower()
    text = (text or "").strip()
    if topic not in TOPICS + (ALL,):
        raise AlertError(f"unknown topic {topic!r}: use one of {', '.join(TOPICS + (ALL,))}")
    if zone not in ZONES + (ALL,):
        raise AlertError(f"unknown zone {zone!r}: use one of {', '.join(ZONES + (ALL,))}")
    if severity not in SEVERITIES:
        raise AlertError(f"unknown severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    if not text:
        raise AlertError("the alert has no text")
    if len(text) > MAX_TEXT:
        raise AlertError(f"the alert text is {len(text)} characters; keep it under {MAX_TEXT}")
    return topic, zone, severity, text


@dataclass(frozen=True)
class Preview:
    """Who an alert would reach now: subscribers per channel, and matching ones excluded for STOP."""

    topic: str
    zone: str
    by_channel: Dict[str, int]
    opted_out: int

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())

    def as_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "total": self.total}


async def preview_alert(topic: str, zone: str) -> Preview:
    """Count the recipients an alert on `topic` in `zone` would have, per channel."""
    topic, zone, _, _ = validate(topic, zone)

    def count(connection: Connection) -> Preview:
        query = (
            sa.select(contacts.c.channel, contacts.c.opted_out, sa.func.count(sa.distinct(subscriptions.c.sender_id)))
            .select_from(subscriptions.join(contacts, contacts.c.sender_id == subscriptions.c.sender_id))
            .where(matches(topic, zone))
            .group_by(contacts.c.channel, contacts.c.opted_out)
        )
        by_channel: Dict[str, int] = {}
        opted_out = 0
        for channel, is_opted_out, number in connection.execute(query).all():
            if is_opted_out:
                opted_out += number
            else:
                by_channel[channel] = by_channel.get(channel, 0) + number
        return Preview(topic, zone, dict(sorted(by_channel.items())), opted_out)

    return await run(count)


@dataclass(frozen=True)
class Alert:
    id: int
    topic: str
    zone: str
    severity: str
    text: str
    created_by: Optional[str]
    created_at: datetime
    state: str
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    lease_owner: Optional[str] = None
    lease_until: Optional[datetime] = None

    @classmethod
    def from_row(cls, row: Any) -> "Alert":
        return cls(
            id=row.id,
            topic=row.topic,
            zone=row.zone,
            severity=row.severity,
            text=row.text,
            created_by=row.created_by,
            created_at=aware(row.created_at),
            state=row.state,
            started_at=aware(row.started_at),
            finished_at=aware(row.finished_at),
            lease_owner=row.lease_owner,
            lease_until=aware(row.lease_until),
        )

    def as_dict(self) -> Dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


def alert_message(alert: Alert) -> str:
    """The text residents receive: who sends it, how serious, where, the staff's words, how to stop."""
    from bot.catalog import load_city

    city = load_city().name or "City"
    head = {"info": "notice", "advisory": "advisory", "warning": "WARNING", "emergency": "EMERGENCY"}[alert.severity]
    where = "" if alert.zone == ALL else f" ({alert.zone.title()} zone)"
    return f"{city} {head}{where}: {alert.text}\nReply ALERTS OFF to stop alerts."


async def create_alert(topic: str, zone: str, severity: str, text: str, created_by: Optional[str] = None) -> Alert:
    """Write an alert and, in the same transaction, one pending delivery per recipient.

    Recipients are the subscribers whose subscriptions match, who have a
    contact (a channel to be reached on) and have not opted out (STOP).
    """
    topic, zone, severity, text = validate(topic, zone, severity, text)

    def write(connection: Connection) -> Alert:
        now = utcnow()
        alert_id = connection.execute(
            alerts.insert().values(
                topic=topic,
                zone=zone,
                severity=severity,
                text=text,
                created_by=created_by,
                created_at=now,
                state=QUEUED,
            )
        ).inserted_primary_key[0]
        recipients = (
            sa.select(
                sa.literal(alert_id, sa.Integer),
                subscriptions.c.sender_id,
                contacts.c.channel,
                sa.literal(PENDING, sa.String),
                sa.literal(0, sa.Integer),
                sa.literal(now, sa.DateTime(timezone=True)),
            )
            .select_from(subscriptions.join(contacts, contacts.c.sender_id == subscriptions.c.sender_id))
            .where(matches(topic, zone))
            .where(contacts.c.opted_out == sa.false())
            .distinct()
        )
        connection.execute(
            deliveries.insert().from_select(
                ["alert_id", "sender_id", "channel", "state", "attempts", "next_attempt_at"], recipients
            )
        )
        row = connection.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()
        return Alert.from_row(row)

    alert = await run(write)
    logger.info("alert %s written (%s, %s, %s) by %s", alert.id, topic, zone, severity, created_by or "staff")
    return alert


async def get_alert(alert_id: int) -> Optional[Alert]:
    row = await run(lambda c: c.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first())
    return Alert.from_row(row) if row else None


async def list_alerts(limit: int = 20) -> List[Alert]:
    rows = await run(lambda c: c.execute(sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)).all())
    return [Alert.from_row(row) for row in rows]


@dataclass
class AlertStatus:
    """Where an alert's delivery stands: deliveries per state, overall and per channel."""

    alert: Alert
    by_channel: Dict[str, Dict[str, int]] = field(default_factory=dict)

    def count(self, *states: str) -> int:
        return sum(n for counts in self.by_channel.values() for s, n in counts.items() if s in states)

    @property
    def total(self) -> int:
        return self.count(*DELIVERY_STATES)

    @property
    def sent(self) -> int:
        return self.count(SENT)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def skipped(self) -> int:
        return self.count(SKIPPED)

    @property
    def unconfirmed(self) -> int:
        return self.count(UNCONFIRMED)

    @property
    def pending(self) -> int:
        """Not finished yet: waiting, waiting for a retry, or on its way."""
        return self.count(PENDING, SENDING)

    @property
    def finished(self) -> int:
        return self.total - self.pending

    @property
    def done(self) -> bool:
        return self.pending == 0

    def as_dict(self) -> Dict[str, Any]:
        return {
            "alert": self.alert.as_dict(),
            "total": self.total,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "unconfirmed": self.unconfirmed,
            "pending": self.pending,
            "done": self.done,
            "by_channel": self.by_channel,
        }


def status_in(connection: Connection, alert_id: int) -> AlertStatus:
    row = connection.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise AlertError(f"there is no alert {alert_id}")
    status = AlertStatus(Alert.from_row(row))
    query = (
        sa.select(deliveries.c.channel, deliveries.c.state, sa.func.count())
        .where(deliveries.c.alert_id == alert_id)
        .group_by(deliveries.c.channel, deliveries.c.state)
    )
    for channel, state, number in connection.execute(query).all():
        status.by_channel.setdefault(channel, {})[state] = number
    status.by_channel = dict(sorted(status.by_channel.items()))
    return status


async def alert_status(alert_id: int) -> AlertStatus:
    """Sent, failed, skipped, unconfirmed and pending deliveries of an alert (per channel too)."""
    return await run(lambda c: status_in(c, alert_id))


async def cancel_alert(alert_id: int) -> AlertStatus:
    """Stop an alert: deliveries not yet sent are skipped (those already sent stay sent)."""

    def cancel(connection: Connection) -> AlertStatus:
        status_in(connection, alert_id)  # raises for an unknown alert
        connection.execute(
            deliveries.update()
            .where(deliveries.c.alert_id == alert_id)
            .where(deliveries.c.state == PENDING)
            .values(state=SKIPPED, last_error="cancelled by staff")
        )
        connection.execute(alerts.update().where(alerts.c.id == alert_id).values(state=CANCELLED, finished_at=utcnow()))
        return status_in(connection, alert_id)

    return await run(cancel)


async def resend_unconfirmed(alert_id: int) -> int:
    """Queue again the deliveries whose process died mid-send (some of them may then arrive twice)."""

    def requeue(connection: Connection) -> int:
        status_in(connection, alert_id)
        result = connection.execute(
            deliveries.update()
            .where(deliveries.c.alert_id == alert_id)
            .where(deliveries.c.state == UNCONFIRMED)
            .values(state=PENDING, claimed_by=None, claimed_until=None, next_attempt_at=utcnow())
        )
        if result.rowcount:
            connection.execute(
                alerts.update().where(alerts.c.id == alert_id).where(alerts.c.state == DONE).values(state=DELIVERING)
            )
        return int(result.rowcount or 0)

    return await run(requeue)
