"""Alert subscriptions, alerts and their deliveries, in the assistant's database.

- `alert_subscriptions`: what each conversation (pseudonymous sender id) wants:
  a topic (weather|water|roads|all) in a zone (north|east|south|west|all).
- `alerts`: what staff wrote, in the default language; `lease_owner`/`lease_until`
  say which process is delivering it (one at a time, taken over when the lease
  runs out). `alert_translations`: the same alert in the city's other languages.
  An alert starts as a draft, which nothing delivers; a second supervisor approves
  it and it is sent (bot.alerts.approval, the only way out of a draft).
- `alert_deliveries`: one row per alert and subscriber (unique), written for
  every matching, reachable, not opted-out subscriber in the same transaction
  that sends the alert (`fan_out`), with the language the resident reads it in. The
  language is fixed then: a resident who switches language while the alert is
  on its way, or a job that resumes it after a crash, changes nothing of what
  each row sends. A row is pending, then `sending` (claimed, committed
  before the message leaves), then sent, failed (after retries, or refused for
  good) or skipped (opted out or unsubscribed since). A row still `sending`
  when its process died is `unconfirmed`: the message may or may not have left,
  and it is not sent again unless staff ask (`approval.resend_unconfirmed`), so nobody
  gets an alert twice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import texts
from bot.alerts.words import ALL, SEVERITIES, TOPICS, ZONES, collapse
from bot.db.engine import database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alert_subscriptions as subscriptions
from bot.db.schema import alert_translations, alerts, contacts, resident_languages
from bot.i18n.languages import city_languages, default_language, resident_language
from bot.i18n.messages import Messages, messages

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
    "get_alert",
    "list_alerts",
    "alert_status",
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
DRAFT = "draft"  # written, waiting for a second supervisor's approval; no delivery rows yet
QUEUED = "queued"  # sent by staff: delivery rows written, nothing delivered yet
DELIVERING = "sending"  # a delivery job has started (and may have been interrupted)
DONE = "done"  # no delivery left pending
CANCELLED = "cancelled"  # by staff: a discarded draft, or a delivery stopped (rows not sent yet skipped)
CANCELLED_NOTE = "cancelled by staff"  # the `last_error` of the rows a cancel skipped (a resume sends them)


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
    """A staff request that cannot be done as asked (unknown topic, empty text...); `status`: the console's answer."""

    status = 400


class NoSuchAlert(AlertError):
    status = 404


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

    def describe(self, text: Messages) -> str:
        """What the conversation now gets, in `text`'s language."""
        return texts.describe(self.after, text)


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
    if topic not in TOPICS + (ALL,):
        raise AlertError(f"unknown topic {topic!r}: use one of {', '.join(TOPICS + (ALL,))}")
    if zone not in ZONES + (ALL,):
        raise AlertError(f"unknown zone {zone!r}: use one of {', '.join(ZONES + (ALL,))}")
    if severity not in SEVERITIES:
        raise AlertError(f"unknown severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    return topic, zone, severity, _checked_text(text, "the alert")


def _checked_text(text: Optional[str], what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AlertError(f"{what} has no text")
    if len(text) > MAX_TEXT:
        raise AlertError(f"{what} is {len(text)} characters; keep it under {MAX_TEXT}")
    return text


def validate_translations(translations: Optional[Mapping[str, Optional[str]]]) -> Dict[str, str]:
    """The alert's texts in the city's other languages (language code -> text); None values are left out."""
    others = [code for code in city_languages() if code != default_language()]
    checked: Dict[str, str] = {}
    for language, text in (translations or {}).items():
        if text is None:
            continue
        if language not in others:
            raise AlertError(
                f"no text in {language!r} can be given: the other city languages are {', '.join(others) or 'none'}"
            )
        checked[language] = _checked_text(text, f"the alert in {language!r}")
    return dict(sorted(checked.items()))


@dataclass(frozen=True)
class AlertContent:
    """What an alert says and to whom, as staff write it: a draft's, a change's, or one shown before it exists.

    `text` is in the city's default language, `translations` in its other
    languages (a None or missing one: its readers get the default's text).
    """

    topic: str
    zone: str
    severity: str
    text: str
    translations: Mapping[str, Optional[str]] = field(default_factory=dict)
    faq_url: Optional[str] = None
    publish_to_page: bool = False  # also post it on the city's Facebook Page (bot.alerts.page_post)

    def checked(self) -> "AlertContent":
        """The content validated and tidied (AlertError for an unknown topic, an empty text...)."""
        topic, zone, severity, text = validate(self.topic, self.zone, self.severity, self.text)
        translations = validate_translations(self.translations)
        return AlertContent(topic, zone, severity, text, translations, self.faq_url, self.publish_to_page)


def reader_language() -> Any:
    """SQL: the language each subscriber reads (as bot.i18n.store.languages_for decides it), for set-based statements.

    To be joined with `resident_languages` on the subscriber; a resident never
    seen, or whose language the city no longer offers, reads the default.
    """
    return sa.case(
        (resident_languages.c.language.in_(list(city_languages())), resident_languages.c.language),
        else_=sa.literal(default_language(), sa.String),
    )


@dataclass(frozen=True)
class Preview:
    """Who an alert would reach now: subscribers per channel and language, and matching ones excluded for STOP."""

    topic: str
    zone: str
    by_channel: Dict[str, int]
    opted_out: int
    by_channel_language: Dict[str, Dict[str, int]] = field(default_factory=dict)  # channel -> language -> count

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())

    @property
    def by_language(self) -> Dict[str, int]:
        """Recipients per language they read, the city's languages in order."""
        counts = {code: 0 for code in city_languages()}
        for per_language in self.by_channel_language.values():
            for language, number in per_language.items():
                counts[language] = counts.get(language, 0) + number
        return {language: number for language, number in counts.items() if number}

    def falling_back(self, translations: Iterable[str]) -> Dict[str, int]:
        """Readers of each language the alert has no text in (they get the default language's text)."""
        given = {default_language(), *translations}
        return {language: number for language, number in self.by_language.items() if language not in given}

    def as_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "total": self.total, "by_language": self.by_language}


async def preview_alert(topic: str, zone: str) -> Preview:
    """Count the recipients an alert on `topic` in `zone` would have, per channel and language."""
    topic, zone, _, _ = validate(topic, zone)

    def count(connection: Connection) -> Preview:
        query = (
            sa.select(
                contacts.c.channel,
                contacts.c.opted_out,
                resident_languages.c.language,
                sa.func.count(sa.distinct(subscriptions.c.sender_id)),
            )
            .select_from(
                subscriptions.join(contacts, contacts.c.sender_id == subscriptions.c.sender_id).outerjoin(
                    resident_languages, resident_languages.c.sender_id == subscriptions.c.sender_id
                )
            )
            .where(matches(topic, zone))
            .group_by(contacts.c.channel, contacts.c.opted_out, resident_languages.c.language)
        )
        by_channel: Dict[str, Dict[str, int]] = {}
        opted_out = 0
        for channel, is_opted_out, stored, number in connection.execute(query).all():
            if is_opted_out:
                opted_out += number
                continue
            per_language = by_channel.setdefault(channel, {})
            language = resident_language(stored)
            per_language[language] = per_language.get(language, 0) + number
        by_channel_language = {channel: dict(sorted(counts.items())) for channel, counts in sorted(by_channel.items())}
        totals = {channel: sum(counts.values()) for channel, counts in by_channel_language.items()}
        return Preview(topic, zone, totals, opted_out, by_channel_language)

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
    faq_url: Optional[str] = None  # the FAQ answer it links to (each reader's link adds ?lang=)
    translations: Dict[str, str] = field(default_factory=dict)  # language -> text, the other city languages
    revision: int = 1  # each change of a draft is a new revision (and voids its approval)
    updated_at: Optional[datetime] = None
    approved_by: Optional[str] = None
    approved_at: Optional[datetime] = None
    sent_by: Optional[str] = None
    sent_at: Optional[datetime] = None
    publish_to_page: bool = False  # staff chose to post it on the city's Facebook Page too

    @property
    def is_draft(self) -> bool:
        return self.state == DRAFT

    @property
    def sent_without_approval(self) -> bool:
        """Sent by an admin's explicit override, nobody having approved it."""
        return self.sent_by is not None and self.approved_by is None

    def text_in(self, language: str) -> str:
        """The staff's words for a reader of `language`: their language's text, else the default language's."""
        return self.translations.get(language) or self.text

    @classmethod
    def from_row(cls, row: Any, translations: Optional[Mapping[str, str]] = None) -> "Alert":
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
            faq_url=row.faq_url,
            translations=dict(translations or {}),
            revision=row.revision,
            updated_at=aware(row.updated_at),
            approved_by=row.approved_by,
            approved_at=aware(row.approved_at),
            sent_by=row.sent_by,
            sent_at=aware(row.sent_at),
            publish_to_page=bool(row.publish_to_page),
        )

    def as_dict(self) -> Dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


def alert_message(alert: Alert, language: Optional[str] = None) -> str:
    """The text a reader of `language` (default: the city's) receives: who sends it, how serious,
    where, the staff's words, the FAQ link, how to stop."""
    return texts.alert_message(alert, messages(language))


def write_draft(connection: Connection, content: AlertContent, created_by: str) -> int:
    """Write an alert as a draft (no delivery rows: nothing can deliver it); its id."""
    checked = content.checked()
    alert_id = int(
        connection.execute(
            alerts.insert().values(
                topic=checked.topic,
                zone=checked.zone,
                severity=checked.severity,
                text=checked.text,
                created_by=created_by,
                created_at=utcnow(),
                state=DRAFT,
                faq_url=checked.faq_url,
                revision=1,
                publish_to_page=checked.publish_to_page,
            )
        ).inserted_primary_key[0]
    )
    write_translations(connection, alert_id, checked.translations)
    return alert_id


def write_translations(connection: Connection, alert_id: int, checked: Mapping[str, Optional[str]]) -> None:
    """The alert's texts in the other city languages, replacing those it had (`checked`: validate_translations')."""
    connection.execute(alert_translations.delete().where(alert_translations.c.alert_id == alert_id))
    rows = [{"alert_id": alert_id, "language": code, "text": words} for code, words in checked.items() if words]
    if rows:
        connection.execute(alert_translations.insert(), rows)


def fan_out(connection: Connection, alert: Alert) -> int:
    """One pending delivery per recipient of `alert`, in the transaction that sends it; how many.

    Recipients are the subscribers whose subscriptions match, who have a
    contact (a channel to be reached on) and have not opted out (STOP); each
    row gets the language its resident reads now.
    """
    now = utcnow()
    recipients = (
        sa.select(
            sa.literal(alert.id, sa.Integer),
            subscriptions.c.sender_id,
            contacts.c.channel,
            reader_language(),
            sa.literal(PENDING, sa.String),
            sa.literal(0, sa.Integer),
            sa.literal(now, sa.DateTime(timezone=True)),
        )
        .select_from(
            subscriptions.join(contacts, contacts.c.sender_id == subscriptions.c.sender_id).outerjoin(
                resident_languages, resident_languages.c.sender_id == subscriptions.c.sender_id
            )
        )
        .where(matches(alert.topic, alert.zone))
        .where(contacts.c.opted_out == sa.false())
        .distinct()
    )
    result = connection.execute(
        deliveries.insert().from_select(
            ["alert_id", "sender_id", "channel", "language", "state", "attempts", "next_attempt_at"], recipients
        )
    )
    return int(result.rowcount or 0)


def _translations_of(connection: Connection, alert_ids: List[int]) -> Dict[int, Dict[str, str]]:
    found: Dict[int, Dict[str, str]] = {}
    if alert_ids:
        rows = connection.execute(sa.select(alert_translations).where(alert_translations.c.alert_id.in_(alert_ids)))
        for row in rows:
            found.setdefault(row.alert_id, {})[row.language] = row.text
    return found


def load_alert(connection: Connection, alert_id: int) -> Optional[Alert]:
    """An alert with its texts in every language it has (None when there is no such alert)."""
    row = connection.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None:
        return None
    return Alert.from_row(row, _translations_of(connection, [alert_id]).get(alert_id))


async def get_alert(alert_id: int) -> Optional[Alert]:
    return await run(lambda c: load_alert(c, alert_id))


async def list_alerts(limit: int = 20) -> List[Alert]:
    def read(connection: Connection) -> List[Alert]:
        rows = connection.execute(sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)).all()
        translations = _translations_of(connection, [row.id for row in rows])
        return [Alert.from_row(row, translations.get(row.id)) for row in rows]

    return await run(read)


@dataclass
class AlertStatus:
    """Where an alert's delivery stands: deliveries per state, overall and per channel; how many per language."""

    alert: Alert
    by_channel: Dict[str, Dict[str, int]] = field(default_factory=dict)
    by_language: Dict[str, int] = field(default_factory=dict)
    page_post: Optional[Any] = None  # bot.alerts.page_post.PagePost: its Facebook Page post, once sent

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
            "by_language": self.by_language,
            "page_post": self.page_post.as_dict() if self.page_post is not None else None,
        }


def status_in(connection: Connection, alert_id: int) -> AlertStatus:
    from bot.alerts.page_post import post_in

    alert = load_alert(connection, alert_id)
    if alert is None:
        raise NoSuchAlert(f"there is no alert {alert_id}")
    status = AlertStatus(alert, page_post=post_in(connection, alert_id))
    query = (
        sa.select(deliveries.c.channel, deliveries.c.state, deliveries.c.language, sa.func.count())
        .where(deliveries.c.alert_id == alert_id)
        .group_by(deliveries.c.channel, deliveries.c.state, deliveries.c.language)
    )
    by_language = {code: 0 for code in city_languages()}
    for channel, state, stored, number in connection.execute(query).all():
        counts = status.by_channel.setdefault(channel, {})
        counts[state] = counts.get(state, 0) + number
        language = resident_language(stored)
        by_language[language] = by_language.get(language, 0) + number
    status.by_channel = dict(sorted(status.by_channel.items()))
    status.by_language = {language: number for language, number in by_language.items() if number}
    return status


async def alert_status(alert_id: int) -> AlertStatus:
    """Sent, failed, skipped, unconfirmed and pending deliveries of an alert (per channel too)."""
    return await run(lambda c: status_in(c, alert_id))


def cancel_in(connection: Connection, alert_id: int) -> None:
    """Stop an alert: deliveries not yet sent are skipped (those already sent stay sent); a draft is discarded."""
    connection.execute(
        deliveries.update()
        .where(deliveries.c.alert_id == alert_id)
        .where(deliveries.c.state == PENDING)
        .values(state=SKIPPED, last_error=CANCELLED_NOTE)
    )
    connection.execute(alerts.update().where(alerts.c.id == alert_id).values(state=CANCELLED, finished_at=utcnow()))


def resume_in(connection: Connection, alert: Alert) -> int:
    """Carry on a cancelled alert: the deliveries its cancel skipped are pending again; how many."""
    result = connection.execute(
        deliveries.update()
        .where(deliveries.c.alert_id == alert.id)
        .where(deliveries.c.state == SKIPPED)
        .where(deliveries.c.last_error == CANCELLED_NOTE)
        .values(state=PENDING, last_error=None, claimed_by=None, claimed_until=None, next_attempt_at=utcnow())
    )
    resumed = int(result.rowcount or 0)
    if resumed:
        connection.execute(
            alerts.update()
            .where(alerts.c.id == alert.id)
            .values(state=DELIVERING if alert.started_at else QUEUED, finished_at=None)
        )
    return resumed


def requeue_unconfirmed(connection: Connection, alert_id: int) -> int:
    """Queue again the deliveries whose process died mid-send (some of them may then arrive twice)."""
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
