"""The report outbox: a confirmed report is stored first, then delivered to Open311.

The resident gets a local reference (R-7KQ2M) at once. Delivery is retried with
exponential backoff until the back office answers; each report carries an
idempotency key (sent as `Idempotency-Key`) and its reference in the description,
so a retry after a crash or a timeout adopts the request already filed instead
of filing it again. A row is claimed before each attempt, so two processes never
deliver the same report at the same time.

The back office keeps its own language: the description is filed as the
resident wrote it, with the service code and value keys of the back office.
The resident's language is recorded in the row (`language`) and shown to the
back office as a second marker after the reference: "... [ref R-7KQ2M] [lang es]"
(a language code, so nothing is translated and every back office can read it).
The reference marker stays whole, so finding a report in the back office by
`[ref R-7KQ2M]` works as before.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, utcnow
from bot.db.schema import report_outbox
from bot.i18n.languages import resident_language
from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, Open311Rejected
from bot.reports.draft import ReportDraft
from bot.settings import settings

logger = logging.getLogger(__name__)

PENDING = "pending"  # not yet accepted by the back office
AWAITING_ID = "awaiting_id"  # accepted with a token; the city's id comes later
FILED = "filed"
REJECTED = "rejected"  # the back office refused it: retrying would not help

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# A reference as a resident types it back: any case, 5 to 8 characters (earlier references were shorter).
REFERENCE_FORM = r"R-[A-Z0-9]{5,8}"
LOCAL_REFERENCE = re.compile(rf"(?<![\w-]){REFERENCE_FORM}(?![\w-])", re.IGNORECASE)
CLAIM_SECONDS = 60


@dataclass(frozen=True)
class OutboxItem:
    """One stored report and where its delivery stands."""

    reference: str
    idempotency_key: str
    sender_id: Optional[str]
    service_code: str
    service_name: Optional[str]
    fields: Dict[str, Any]
    state: str
    attempts: int
    last_error: Optional[str]
    token: Optional[str]
    service_request_id: Optional[str]
    created_at: datetime
    resident_told: bool
    language: str  # the resident's, when they reported

    @classmethod
    def from_row(cls, row: Any) -> "OutboxItem":
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        return cls(
            reference=row.reference,
            idempotency_key=row.idempotency_key,
            sender_id=row.sender_id,
            service_code=row.service_code,
            service_name=row.service_name,
            fields=json.loads(row.fields),
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            token=row.token,
            service_request_id=row.service_request_id,
            created_at=created,
            resident_told=bool(row.resident_told),
            language=resident_language(row.language),
        )


def reference_marker(reference: str) -> str:
    """What the description carries to find the report in the back office: "[ref R-7KQ2M]"."""
    return f"[ref {reference}]"


def filed_description(description: Optional[str], reference: str, language: str) -> str:
    """The description as the resident wrote it, then the reference and language markers."""
    return f"{description or ''} {reference_marker(reference)} [lang {language}]".strip()


def new_reference() -> str:
    """A short reference a resident can read out on the phone: R- and six characters."""
    return "R-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter, capped (OUTBOX_MAX_BACKOFF_SECONDS, default 600)."""
    cap = settings().outbox_max_backoff_seconds
    base = settings().outbox_base_backoff_seconds
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    return delay * random.uniform(0.8, 1.2)


def inserting(values: Dict[str, Any]) -> Callable[[Connection], Any]:
    """The work of inserting one outbox row (for Database.run)."""
    return lambda connection: connection.execute(report_outbox.insert().values(**values))


async def enqueue(draft: ReportDraft, sender_id: Optional[str], claim_for: Optional[float] = None) -> OutboxItem:
    """Store a confirmed report; it is safe from here on, whatever fails next.

    With `claim_for`, the caller holds the report from the first instant for
    that many seconds (to deliver it at once), so the worker cannot take it in
    between; if the caller dies, the claim runs out and the worker delivers it.
    """
    language = resident_language(draft.language)
    for _ in range(5):
        reference = new_reference()
        fields = draft.open311_fields()
        fields["description"] = filed_description(fields.get("description"), reference, language)
        now = utcnow()
        values = dict(
            reference=reference,
            idempotency_key=uuid.uuid4().hex,
            sender_id=sender_id,
            service_code=draft.service_code,
            service_name=draft.service_name,
            fields=json.dumps(fields),
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_until=now + timedelta(seconds=claim_for) if claim_for else None,
            created_at=now,
            resident_told=False,
            language=language,
        )
        try:
            await database().run(inserting(values))
        except sa.exc.IntegrityError:
            continue  # the rare reference collision: draw another
        return await get(reference)  # type: ignore[return-value]
    raise RuntimeError("could not allocate a report reference")


async def get(reference: str) -> Optional[OutboxItem]:
    """The stored report with this reference (case-insensitive), or None."""
    row = await database().run(
        lambda c: c.execute(sa.select(report_outbox).where(report_outbox.c.reference == reference.upper())).first()
    )
    return OutboxItem.from_row(row) if row else None


async def claim(reference: str, seconds: float = CLAIM_SECONDS) -> Optional[OutboxItem]:
    """Take the report for one delivery attempt; None if it is done or someone else has it."""
    now = utcnow()

    def take(connection: Connection) -> bool:
        result = connection.execute(
            report_outbox.update()
            .where(report_outbox.c.reference == reference)
            .where(report_outbox.c.state.in_([PENDING, AWAITING_ID]))
            .where(sa.or_(report_outbox.c.claimed_until.is_(None), report_outbox.c.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=seconds))
        )
        return result.rowcount == 1

    return await get(reference) if await database().run(take) else None


async def due(limit: int = 50) -> List[str]:
    """References whose next delivery attempt is due and that nobody holds."""
    now = utcnow()
    rows = await database().run(
        lambda c: c.execute(
            sa.select(report_outbox.c.reference)
            .where(report_outbox.c.state.in_([PENDING, AWAITING_ID]))
            .where(report_outbox.c.next_attempt_at <= now)
            .where(sa.or_(report_outbox.c.claimed_until.is_(None), report_outbox.c.claimed_until < now))
            .order_by(report_outbox.c.next_attempt_at)
            .limit(limit)
        ).all()
    )
    return [row.reference for row in rows]


async def _save(reference: str, **values: Any) -> OutboxItem:
    values["claimed_until"] = None
    await database().run(
        lambda c: c.execute(report_outbox.update().where(report_outbox.c.reference == reference).values(**values))
    )
    return await get(reference)  # type: ignore[return-value]


async def _count_attempt(reference: str) -> None:
    await database().run(
        lambda c: c.execute(
            report_outbox.update()
            .where(report_outbox.c.reference == reference)
            .values(attempts=report_outbox.c.attempts + 1)
        )
    )


async def _already_filed(item: OutboxItem, client: Open311Client) -> Optional[str]:
    """The city's id for this report if an earlier attempt reached the back office."""
    since = item.created_at - timedelta(minutes=5)
    for request in await client.list_requests(service_code=item.service_code, start_date=since):
        if request.description and reference_marker(item.reference) in request.description:
            return request.service_request_id
    return None


async def attempt(item: OutboxItem, client: Open311Client) -> OutboxItem:
    """One delivery attempt for a claimed report; records the outcome and releases it."""
    # Count the attempt before any call: if this process dies mid-call, the
    # next attempt looks for the report in the back office before filing again.
    await _count_attempt(item.reference)
    tried_before = item.attempts > 0
    attempts = item.attempts + 1
    try:
        if item.state == AWAITING_ID:
            request_id = await client.get_request_id_from_token(item.token or "")
            if request_id:
                return await _save(item.reference, state=FILED, service_request_id=request_id, filed_at=utcnow())
            return await _save(item.reference, next_attempt_at=utcnow() + timedelta(seconds=backoff_seconds(attempts)))
        existing = await _already_filed(item, client) if tried_before else None
        if existing:
            return await _save(item.reference, state=FILED, service_request_id=existing, filed_at=utcnow())
        receipt = await client.create_request(item.service_code, idempotency_key=item.idempotency_key, **item.fields)
    except Open311Rejected as error:
        logger.warning("report %s refused by the back office: %s", item.reference, error)
        return await _save(item.reference, state=REJECTED, last_error=str(error)[:1000])
    except Open311Error as error:
        delay = backoff_seconds(attempts)
        logger.info("report %s not delivered (attempt %d, next in %.0fs): %s", item.reference, attempts, delay, error)
        return await _save(
            item.reference, last_error=str(error)[:1000], next_attempt_at=utcnow() + timedelta(seconds=delay)
        )
    if receipt.service_request_id:
        return await _save(
            item.reference,
            state=FILED,
            service_request_id=receipt.service_request_id,
            token=receipt.token,
            filed_at=utcnow(),
        )
    return await _save(
        item.reference,
        state=AWAITING_ID,
        token=receipt.token,
        next_attempt_at=utcnow() + timedelta(seconds=backoff_seconds(1)),
    )


async def mark_told(reference: str) -> None:
    """The resident has been told the outcome; the worker will not tell them again."""
    await database().run(
        lambda c: c.execute(
            report_outbox.update().where(report_outbox.c.reference == reference).values(resident_told=True)
        )
    )


async def untold_outcomes(limit: int = 50) -> List[OutboxItem]:
    """Filed or refused reports whose resident has not been told yet."""
    rows = await database().run(
        lambda c: c.execute(
            sa.select(report_outbox)
            .where(report_outbox.c.state.in_([FILED, REJECTED]))
            .where(report_outbox.c.resident_told.is_(False))
            .limit(limit)
        ).all()
    )
    return [OutboxItem.from_row(row) for row in rows]
