"""Delivering an alert: a durable, resumable job that reaches each subscriber once.

`run_delivery(alert_id)` works through the alert's delivery rows, one lane per
channel, each with its rate limiter (bot.alerts.limiter) and a few concurrent
senders:

1. A sender takes its channel's tokens from the limiter (one per message, or
   per SMS segment), then claims one row: in one committed transaction the row
   goes from pending to `sending` (with the job's id and the attempt counted),
   after checking that the resident has not opted out or unsubscribed since
   the alert was written (then it is skipped).
2. The message goes out through the channel's OutboundSender, spaced once
   more by the same limit right before it leaves (claims committed together
   come back together; they must not leave together).
3. The row becomes sent; or pending again with a backoff after a temporary
   failure (until ALERT_MAX_ATTEMPTS), failed after a permanent one, skipped
   when the channel says the resident cannot be reached.

Claims and outcomes of all senders are written together in shared transactions
(group commit), so a slow disk costs one commit per round, not per message.
Web chat messages are rows in `webchat_messages`: the message and the "sent"
mark are written in the same transaction, so those are exactly once.

One job at a time delivers an alert: it holds a lease on the alert row,
renewed while it runs. When a process dies the lease runs out
(ALERT_LEASE_SECONDS) and the next job (the worker's `alert_loop`, or
`citybot alerts resume`) carries on where it stopped: it marks rows the dead
job left `sending` as `unconfirmed` (the message may have left just before the
crash) and never sends those again on its own, so nobody gets an alert twice.
Staff may queue them again (`resend_unconfirmed`).
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import math
import os
import random
import socket
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Tuple, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import store
from bot.alerts.limiter import ChannelLimit, limit_for, rate_for
from bot.alerts.segments import sends_per_message
from bot.alerts.store import (
    CANCELLED,
    DELIVERING,
    DONE,
    FAILED,
    PENDING,
    QUEUED,
    SENDING,
    SENT,
    SKIPPED,
    UNCONFIRMED,
    Alert,
    AlertError,
    AlertStatus,
    alert_message,
    alerts,
    deliveries,
    matches,
    subscriptions,
)
from bot.channels.outbound import NotDeliverable, OutboundSender, sender_for
from bot.storage import contacts, database, utcnow
from bot.settings import settings

logger = logging.getLogger(__name__)

WEBCHAT = "webchat"
ProgressCallback = Callable[[AlertStatus], Union[None, Awaitable[None]]]


_warned_unavailable: Set[Tuple[int, Tuple[str, ...]]] = set()


class AlertBusy(Exception):
    """Another job holds the alert's lease (it is being delivered elsewhere)."""


def _env_float(name: str, default: float) -> float:
    raw = (settings().get(name) or "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class DeliverySettings:
    """How a delivery job retries, leases and batches; from the environment (see README)."""

    max_attempts: int = 5
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    lease_seconds: float = 30.0
    concurrency: Optional[int] = None  # senders per channel; None: from the channel's rate
    page_size: int = 500
    batch_size: int = 500  # operations per shared transaction
    idle_poll_seconds: float = 1.0

    @classmethod
    def from_env(cls) -> "DeliverySettings":
        concurrency = (settings().alert_concurrency or "").strip()
        return cls(
            max_attempts=max(1, int(_env_float("ALERT_MAX_ATTEMPTS", 5))),
            retry_base_seconds=_env_float("ALERT_RETRY_BASE_SECONDS", 5.0),
            retry_max_seconds=_env_float("ALERT_RETRY_MAX_SECONDS", 300.0),
            lease_seconds=max(1.0, _env_float("ALERT_LEASE_SECONDS", 30.0)),
            concurrency=max(1, int(concurrency)) if concurrency else None,
        )

    def senders_for(self, rate: float) -> int:
        """Concurrent senders a channel needs to use its rate when a send takes up to ~1/4 s."""
        if self.concurrency:
            return self.concurrency
        if rate <= 0:
            return 16
        return max(1, min(16, math.ceil(rate / 4) + 1))

    def backoff(self, attempts: int) -> float:
        delay = min(self.retry_max_seconds, self.retry_base_seconds * (2 ** max(attempts - 1, 0)))
        return delay * random.uniform(0.8, 1.2)


def new_job_id() -> str:
    return f"{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


# --- failures -----------------------------------------------------------------------


def is_permanent(error: BaseException) -> bool:
    """A failure that another attempt would not fix (the channel refused this resident)."""
    try:
        from telegram.error import BadRequest, Forbidden, InvalidToken

        if isinstance(error, (Forbidden, BadRequest, InvalidToken)):
            return True  # blocked the bot, chat not found, bad token
    except ImportError:  # pragma: no cover - telegram is a dependency
        pass
    status = getattr(error, "status", None)  # TwilioSendError: HTTP status of Twilio's answer
    if isinstance(status, int) and 400 <= status < 500 and status != 429:
        return True
    return False


def retry_after(error: BaseException) -> float:
    """The wait a channel asked for (Telegram flood control), else 0."""
    with warnings.catch_warnings():  # PTB warns while retry_after moves to timedelta
        warnings.simplefilter("ignore")
        wait = getattr(error, "retry_after", None)
    try:
        return float(wait.total_seconds() if hasattr(wait, "total_seconds") else wait or 0)
    except (TypeError, ValueError):
        return 0.0


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# --- batched writes ---------------------------------------------------------------------


class BatchWriter:
    """Writes the job's claims and outcomes together: one transaction per round (group commit).

    Senders ask for claims and report outcomes; each round commits every
    outcome reported meanwhile and claims every row asked for, with a handful
    of set-based statements, so a slow disk costs one commit per round, not
    per message. `apply(connection, ids, outcomes)` does the work.
    """

    def __init__(self, apply: Callable[[Connection, List[int], List[Dict[str, Any]]], Dict[int, Any]],
                 batch_size: int = 500) -> None:
        self.apply = apply
        self.batch_size = batch_size
        self._claims: List[Tuple[int, "asyncio.Future[Any]"]] = []
        self._outcomes: List[Dict[str, Any]] = []
        self._flushes: List["asyncio.Future[None]"] = []
        self._wake = asyncio.Event()
        self._task: Optional["asyncio.Task[None]"] = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def claim(self, delivery_id: int) -> "asyncio.Future[Any]":
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._claims.append((delivery_id, future))
        self._wake.set()
        return future

    def outcome(self, **row: Any) -> None:
        """Record what happened to a claimed row (written with the next round)."""
        self._outcomes.append(row)
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every outcome reported so far is committed."""
        if self._task is None or self._task.done():
            return
        future: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._flushes.append(future)
        self._wake.set()
        await future

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._claims or self._outcomes or self._flushes:
                claims, self._claims = self._claims[: self.batch_size], self._claims[self.batch_size:]
                outcomes, self._outcomes = self._outcomes, []
                flushes, self._flushes = self._flushes, []
                ids = [delivery_id for delivery_id, _ in claims]
                try:
                    results = await self._commit(ids, outcomes)
                except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                    logger.error("alert delivery: could not write %d claim(s) and %d outcome(s): %s",
                                 len(claims), len(outcomes), error)
                    self._outcomes[:0] = outcomes  # kept for the next round
                    for future in [f for _, f in claims] + flushes:
                        if not future.done():
                            future.set_exception(error)
                    await asyncio.sleep(1.0)
                    continue
                for delivery_id, future in claims:
                    if not future.done():
                        future.set_result(results.get(delivery_id))
                for future in flushes:
                    if not future.done():
                        future.set_result(None)

    async def _commit(self, ids: List[int], outcomes: List[Dict[str, Any]]) -> Dict[int, Any]:
        for attempt in range(1, 4):
            try:
                return await store.run(lambda connection: self.apply(connection, ids, outcomes))
            except sa.exc.OperationalError:  # "database is locked" and the like: try again
                if attempt == 3:
                    raise
                await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")


# --- the job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery row taken for one attempt."""

    id: int
    sender_id: str
    address: str
    attempts: int


@dataclass
class Lane:
    """One channel of the job: its queue of rows, its limiter, its senders."""

    channel: str
    limit: ChannelLimit
    concurrency: int
    sender: Optional[OutboundSender]  # None: web chat, written in the claim's transaction
    queue: "asyncio.Queue[Optional[int]]"
    cost: int = 1  # limiter tokens per message: SMS segments, or messages a long text is split into


def _webchat_writer() -> Optional[Callable[[Connection, List[str], str], None]]:
    """Writes web chat messages in the caller's transaction (None when the channel is not installed)."""
    try:
        from bot.channels.webchat import BOT, clean_payload, webchat_messages
    except ImportError:  # pragma: no cover - the web chat is part of the project
        return None
    created: Set[str] = set()

    def write(connection: Connection, sender_ids: List[str], text: str) -> None:
        url = str(connection.engine.url)
        if url not in created:  # the database may predate the web chat's table
            webchat_messages.create(connection, checkfirst=True)
            created.add(url)
        payload, now = json.dumps(clean_payload({"text": text})), utcnow()
        connection.execute(
            webchat_messages.insert(),
            [{"sender_id": sender_id, "role": BOT, "payload": payload, "created_at": now} for sender_id in sender_ids],
        )

    return write


class _SharedClientMessages:
    """A Twilio sender's Messages API, with one HTTP client for the whole job.

    TwilioSender opens a client per message, and each new client builds a TLS
    context (a quarter of a second of CPU on a small machine): fine for a reply,
    not for ten thousand alerts.
    """

    def __init__(self, base: Any) -> None:
        self.base = base
        self.shared = base.client()

    def client(self) -> contextlib.nullcontext:
        """The shared client, lent for one send: leaving the `async with` does not close it."""
        return contextlib.nullcontext(self.shared)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


class DeliveryJob:
    """Delivers one alert until nothing is left pending (or it is cancelled, or loses its lease)."""

    def __init__(
        self,
        alert_id: int,
        senders: Optional[Mapping[str, OutboundSender]] = None,
        rates: Optional[Mapping[str, float]] = None,
        settings: Optional[DeliverySettings] = None,
        takeover: bool = False,
        job_id: Optional[str] = None,
        stop: Optional[asyncio.Event] = None,
    ) -> None:
        self.alert_id = alert_id
        self.stop = stop  # set: finish the messages on their way, send no more, keep the rest pending
        self.senders = senders
        self.rates = dict(rates or {})
        self.settings = settings or DeliverySettings.from_env()
        self.takeover = takeover
        self.job_id = job_id or new_job_id()
        self.writer = BatchWriter(self._write_round, self.settings.batch_size)
        self.alert: Optional[Alert] = None
        self.text = ""
        self.unavailable: List[str] = []
        self._webchat_write = None  # type: Optional[Callable[[Connection, List[str], str], None]]
        self._pooled: Dict[int, OutboundSender] = {}
        self._clients: List[Any] = []
        self._on_the_wire: Set[int] = set()  # claimed rows whose send has started and not ended

    def _pooled_sender(self, sender: OutboundSender) -> OutboundSender:
        """The sender to use for the job: Twilio's with one shared HTTP client, others as they are."""
        try:
            from bot.channels.twilio_rest import TwilioSender
        except ImportError:  # pragma: no cover - part of the project
            return sender
        if type(sender) is not TwilioSender:
            return sender
        if id(sender) not in self._pooled:
            messages = _SharedClientMessages(sender.messages)
            self._clients.append(messages.shared)
            self._pooled[id(sender)] = TwilioSender(sender.settings, messages)  # type: ignore[arg-type]
        return self._pooled[id(sender)]

    # --- the lease -----------------------------------------------------------------

    def _take_lease(self, connection: Connection) -> Alert:
        row = connection.execute(sa.select(alerts).where(alerts.c.id == self.alert_id)).first()
        if row is None:
            raise AlertError(f"there is no alert {self.alert_id}")
        alert = Alert.from_row(row)
        if alert.state == CANCELLED:
            return alert
        now = utcnow()
        if (
            alert.lease_owner
            and alert.lease_owner != self.job_id
            and alert.lease_until is not None
            and alert.lease_until > now
            and not self.takeover
        ):
            raise AlertBusy(
                f"alert {self.alert_id} is being delivered by {alert.lease_owner} "
                f"(lease until {alert.lease_until:%H:%M:%S} UTC)"
            )
        connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .values(
                lease_owner=self.job_id,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                state=DELIVERING,
                started_at=alert.started_at or now,
            )
        )
        # Rows an earlier job had on their way when it stopped: they may have arrived.
        stale = connection.execute(
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state == SENDING)
            .values(state=UNCONFIRMED, claimed_until=None)
        ).rowcount
        if stale:
            logger.warning(
                "alert %s: %d message(s) were on their way when the last job stopped; marked unconfirmed, "
                "not sent again", self.alert_id, stale,
            )
        return Alert.from_row(connection.execute(sa.select(alerts).where(alerts.c.id == self.alert_id)).one())

    def _renew_lease(self, connection: Connection) -> bool:
        result = connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .values(lease_until=utcnow() + timedelta(seconds=self.settings.lease_seconds))
        )
        return result.rowcount == 1

    def _release(self, connection: Connection) -> None:
        mine = (
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state == SENDING)
            .where(deliveries.c.claimed_by == self.job_id)
        )
        # Cancelled mid-send: the message may have arrived.
        if self._on_the_wire:
            connection.execute(
                mine.where(deliveries.c.id.in_(sorted(self._on_the_wire))).values(state=UNCONFIRMED, claimed_until=None)
            )
        # Claimed but never sent (cancelled before): simply pending again.
        connection.execute(
            mine.values(state=PENDING, claimed_by=None, claimed_until=None, attempts=deliveries.c.attempts - 1)
        )
        left = connection.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.state.in_([PENDING, SENDING]))
        ).scalar_one()
        values: Dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if left == 0:
            values.update(state=DONE, finished_at=utcnow())
        connection.execute(
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .where(alerts.c.state != CANCELLED)
            .values(**values)
        )
        connection.execute(  # a cancelled alert only gives its lease back
            alerts.update()
            .where(alerts.c.id == self.alert_id)
            .where(alerts.c.lease_owner == self.job_id)
            .values(lease_owner=None, lease_until=None)
        )

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            if not await store.run(self._renew_lease):
                raise AlertBusy(f"alert {self.alert_id}: another job took over the delivery")

    # --- rows -------------------------------------------------------------------------

    def _skip_unreachable(self, channel: str, connection: Connection) -> int:
        """Skip, in bulk, pending rows whose resident opted out or unsubscribed since the alert was written."""
        assert self.alert is not None
        base = (
            deliveries.update()
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
        )
        opted_out = sa.select(contacts.c.sender_id).where(contacts.c.opted_out == sa.true())
        skipped = connection.execute(
            base.where(deliveries.c.sender_id.in_(opted_out)).values(state=SKIPPED, last_error="opted out")
        ).rowcount
        still_wanted = (
            sa.exists()
            .where(subscriptions.c.sender_id == deliveries.c.sender_id)
            .where(matches(self.alert.topic, self.alert.zone))
        )
        skipped += connection.execute(
            base.where(~still_wanted).values(state=SKIPPED, last_error="unsubscribed")
        ).rowcount
        return int(skipped or 0)

    def _due_ids(self, channel: str, after: int, connection: Connection) -> List[int]:
        rows = connection.execute(
            sa.select(deliveries.c.id)
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
            .where(deliveries.c.next_attempt_at <= utcnow())
            .where(deliveries.c.id > after)
            .order_by(deliveries.c.id)
            .limit(self.settings.page_size)
        ).all()
        return [row.id for row in rows]

    def _waiting(self, channel: str, connection: Connection) -> Tuple[int, Any]:
        row = connection.execute(
            sa.select(sa.func.count(), sa.func.min(deliveries.c.next_attempt_at))
            .where(deliveries.c.alert_id == self.alert_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.state == PENDING)
        ).one()
        return int(row[0]), store.aware(row[1])

    def _write_round(self, connection: Connection, ids: List[int], outcomes: List[Dict[str, Any]]) -> Dict[int, Any]:
        """One round: record outcomes, then claim (or settle) the rows asked for."""
        self._record_outcomes(connection, outcomes)
        return self._claim_rows(connection, ids) if ids else {}

    def _record_outcomes(self, connection: Connection, outcomes: List[Dict[str, Any]]) -> None:
        done = [o for o in outcomes if o["state"] != PENDING]
        again = [o for o in outcomes if o["state"] == PENDING]
        mine = (
            deliveries.update()
            .where(deliveries.c.id == sa.bindparam("row_id"))
            .where(deliveries.c.claimed_by == self.job_id)
        )
        if done:
            connection.execute(
                mine.where(sa.or_(deliveries.c.state == SENDING, deliveries.c.state == UNCONFIRMED)).values(
                    state=sa.bindparam("new_state"),
                    last_error=sa.bindparam("error"),
                    sent_at=sa.bindparam("at"),
                    claimed_until=None,
                ),
                [
                    {"row_id": o["id"], "new_state": o["state"], "error": o.get("error"), "at": o.get("at")}
                    for o in done
                ],
            )
        if again:
            connection.execute(
                mine.where(deliveries.c.state == SENDING).values(
                    state=PENDING,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=sa.bindparam("error"),
                    next_attempt_at=sa.bindparam("at"),
                ),
                [{"row_id": o["id"], "error": o.get("error"), "at": o["at"]} for o in again],
            )

    def _claim_rows(self, connection: Connection, ids: List[int]) -> Dict[int, Any]:
        """Take pending rows for sending. A row whose resident opted out or unsubscribed
        meanwhile is skipped; a web chat row is delivered right here (message and "sent"
        mark in this transaction). Returns id -> Claim, SKIPPED or SENT (absent: gone)."""
        assert self.alert is not None
        rows = connection.execute(
            sa.select(
                deliveries.c.id, deliveries.c.sender_id, deliveries.c.channel, deliveries.c.attempts,
                contacts.c.address, contacts.c.opted_out,
            )
            .select_from(deliveries.outerjoin(contacts, contacts.c.sender_id == deliveries.c.sender_id))
            .where(deliveries.c.id.in_(ids))
            .where(deliveries.c.state == PENDING)
        ).all()
        if not rows:
            return {}
        wanted = set(
            connection.execute(
                sa.select(subscriptions.c.sender_id)
                .where(subscriptions.c.sender_id.in_([row.sender_id for row in rows]))
                .where(matches(self.alert.topic, self.alert.zone))
            ).scalars()
        )
        results: Dict[int, Any] = {}
        skipped: List[Dict[str, Any]] = []
        webchat: List[Any] = []
        claimed: List[Any] = []
        for row in rows:
            if row.address is None:
                skipped.append({"row_id": row.id, "reason": "no contact for this conversation"})
            elif row.opted_out:
                skipped.append({"row_id": row.id, "reason": "opted out"})
            elif row.sender_id not in wanted:
                skipped.append({"row_id": row.id, "reason": "unsubscribed"})
            elif row.channel == WEBCHAT and self._webchat_write is not None:
                webchat.append(row)
            else:
                claimed.append(row)
        pending = deliveries.update().where(deliveries.c.state == PENDING)
        if skipped:
            connection.execute(
                pending.where(deliveries.c.id == sa.bindparam("row_id")).values(
                    state=SKIPPED, last_error=sa.bindparam("reason")
                ),
                skipped,
            )
            results.update({entry["row_id"]: SKIPPED for entry in skipped})
        if webchat:
            assert self._webchat_write is not None
            self._webchat_write(connection, [row.sender_id for row in webchat], self.text)
            connection.execute(
                pending.where(deliveries.c.id.in_([row.id for row in webchat])).values(
                    state=SENT, sent_at=utcnow(), attempts=deliveries.c.attempts + 1, claimed_by=self.job_id
                )
            )
            results.update({row.id: SENT for row in webchat})
        if claimed:
            taken = connection.execute(
                pending.where(deliveries.c.id.in_([row.id for row in claimed])).values(
                    state=SENDING,
                    claimed_by=self.job_id,
                    claimed_until=utcnow() + timedelta(seconds=self.settings.lease_seconds),
                    attempts=deliveries.c.attempts + 1,
                )
            ).rowcount
            ours = {row.id for row in claimed}
            if taken != len(claimed):  # another job got some first: keep only ours
                ours = set(
                    connection.execute(
                        sa.select(deliveries.c.id)
                        .where(deliveries.c.id.in_(list(ours)))
                        .where(deliveries.c.state == SENDING)
                        .where(deliveries.c.claimed_by == self.job_id)
                    ).scalars()
                )
            for row in claimed:
                if row.id in ours:
                    results[row.id] = Claim(row.id, row.sender_id, row.address, row.attempts + 1)
        return results

    # --- sending ----------------------------------------------------------------------

    async def _send(self, lane: Lane, claim: Claim) -> None:
        assert lane.sender is not None
        record = partial(self.writer.outcome, id=claim.id)
        for _ in range(lane.cost):  # evenly spaced on the wire, even when claims came back together
            await lane.limit.send.acquire()
        self._on_the_wire.add(claim.id)
        try:
            await lane.sender.send(claim.address, self.text)
        except NotDeliverable as reason:
            record(state=SKIPPED, error=str(reason)[:500])
        except Exception as error:  # noqa: BLE001 - any channel failure is recorded on the row
            if is_permanent(error) or claim.attempts >= self.settings.max_attempts:
                logger.warning("alert %s: delivery %s failed for good: %s", self.alert_id, claim.id, _short(error))
                record(state=FAILED, error=_short(error))
            else:
                delay = max(self.settings.backoff(claim.attempts), retry_after(error))
                logger.info("alert %s: delivery %s failed (attempt %d), retry in %.1fs: %s",
                            self.alert_id, claim.id, claim.attempts, delay, _short(error))
                record(state=PENDING, error=_short(error), at=utcnow() + timedelta(seconds=delay))
        else:
            record(state=SENT, at=utcnow())
        self._on_the_wire.discard(claim.id)  # not reached when the job is cancelled mid-send

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _take_more(self, lane: Lane, batch: List[int]) -> None:
        """Web chat rows are delivered by their claim: take a few more waiting ones along."""
        limit = 50 if lane.limit.unlimited else max(1, min(50, int(lane.limit.rate / 10)))
        while len(batch) < limit:
            try:
                more = lane.queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if more is None:  # another sender's stop sign: hand it back
                lane.queue.put_nowait(None)
                lane.queue.task_done()
                return
            batch.append(more)

    async def _sender_loop(self, lane: Lane) -> None:
        while True:
            first = await lane.queue.get()
            if first is None:
                lane.queue.task_done()
                return
            batch = [first]
            if lane.sender is None:
                self._take_more(lane, batch)
            try:
                if self._stopping():
                    continue  # drain the queue: the rows stay pending
                for _ in range(len(batch) * lane.cost):
                    await lane.limit.claim.acquire()
                if self._stopping():
                    continue
                try:
                    claims = await asyncio.gather(*(self.writer.claim(delivery_id) for delivery_id in batch))
                except Exception as error:  # noqa: BLE001 - the rows stay pending for the next pass
                    logger.warning("alert %s: could not claim %d deliveries: %s", self.alert_id, len(batch), error)
                    await asyncio.sleep(self.settings.idle_poll_seconds)
                    continue
                for claim in claims:
                    if isinstance(claim, Claim):
                        await self._send(lane, claim)
            finally:
                for _ in batch:
                    lane.queue.task_done()

    async def _dispatch(self, lane: Lane) -> None:
        """Feed the lane's senders every due row, pass after pass, until none is pending."""
        senders = [asyncio.ensure_future(self._sender_loop(lane)) for _ in range(lane.concurrency)]
        try:
            await self._passes(lane)
        except BaseException:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            raise
        for _ in senders:
            lane.queue.put_nowait(None)  # the queue is empty here: every pass ends with join()
        await asyncio.gather(*senders)

    async def _passes(self, lane: Lane) -> None:
        while True:
            skipped = await store.run(partial(self._skip_unreachable, lane.channel))
            if skipped:
                logger.info("alert %s: %d %s recipient(s) opted out or unsubscribed meanwhile",
                            self.alert_id, skipped, lane.channel)
            after = 0
            while True:
                ids = await store.run(partial(self._due_ids, lane.channel, after))
                if not ids:
                    break
                for delivery_id in ids:
                    if self._stopping():
                        break
                    await lane.queue.put(delivery_id)
                if self._stopping():
                    break
                after = ids[-1]
            await lane.queue.join()
            await self.writer.flush()
            if self._stopping():
                return
            waiting, next_at = await store.run(partial(self._waiting, lane.channel))
            if waiting == 0:
                return
            delay = (next_at - utcnow()).total_seconds() if next_at is not None else 0.0
            await asyncio.sleep(min(max(delay, 0.05), self.settings.idle_poll_seconds))
            if self._stopping():
                return

    async def _lanes(self) -> List[Lane]:
        channels = await store.run(
            lambda c: [
                row.channel
                for row in c.execute(
                    sa.select(deliveries.c.channel)
                    .where(deliveries.c.alert_id == self.alert_id)
                    .where(deliveries.c.state == PENDING)
                    .distinct()
                ).all()
            ]
        )
        lanes: List[Lane] = []
        for channel in sorted(channels):
            sender = self.senders.get(channel) if self.senders is not None else sender_for(channel)
            if channel == WEBCHAT and sender is None:
                self._webchat_write = _webchat_writer()
                if self._webchat_write is None:
                    self.unavailable.append(channel)
                    continue
            elif sender is None:
                self.unavailable.append(channel)
                continue
            elif channel == WEBCHAT:
                self._webchat_write = _webchat_writer()
                sender = None  # written with the "sent" mark, in one transaction
            if sender is not None:
                sender = self._pooled_sender(sender)
            rate = self.rates[channel] if channel in self.rates else rate_for(channel)
            concurrency = self.settings.senders_for(rate)
            queue: "asyncio.Queue[Optional[int]]" = asyncio.Queue(maxsize=concurrency * 4)
            cost = sends_per_message(channel, self.text)
            lanes.append(Lane(channel, limit_for(channel, rate), concurrency, sender, queue, cost))
        if self.unavailable and (self.alert_id, tuple(self.unavailable)) not in _warned_unavailable:
            _warned_unavailable.add((self.alert_id, tuple(self.unavailable)))
            logger.warning(
                "alert %s: no sender configured here for %s; those deliveries stay pending",
                self.alert_id, ", ".join(self.unavailable),
            )
        return lanes

    async def _report(self, progress: ProgressCallback, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await _call(progress, await store.alert_status(self.alert_id))

    async def run(self, progress: Optional[ProgressCallback] = None, progress_every: float = 0.5) -> AlertStatus:
        self.alert = await store.run(self._take_lease)
        if self.alert.state == CANCELLED:
            return await store.alert_status(self.alert_id)
        self.text = alert_message(self.alert)
        keeper = _keep_sqlite_open()
        self.writer.start()
        helpers: List["asyncio.Task[None]"] = [asyncio.ensure_future(self._heartbeat())]
        if progress is not None:
            helpers.append(asyncio.ensure_future(self._report(progress, progress_every)))
        work: Optional["asyncio.Future[Any]"] = None
        try:
            lanes = await self._lanes()
            for lane in lanes:
                logger.info("alert %s: %s at %s/s with %d sender(s), %d send(s) per message", self.alert_id,
                            lane.channel, lane.limit.rate or "unlimited", lane.concurrency, lane.cost)
            work = asyncio.gather(*(self._dispatch(lane) for lane in lanes))
            await asyncio.wait({work, helpers[0]}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                helpers[0].result()  # the lease was lost: raises AlertBusy
            work.result()
        finally:
            if work is not None and not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self.writer.close()
            await store.run(self._release)
            if keeper is not None:
                await asyncio.to_thread(keeper.close)
            for client in self._clients:
                await client.aclose()
        status = await store.alert_status(self.alert_id)
        if progress is not None:
            await _call(progress, status)
        logger.info("alert %s: %d sent, %d failed, %d skipped, %d unconfirmed, %d pending", self.alert_id,
                    status.sent, status.failed, status.skipped, status.unconfirmed, status.pending)
        return status


def _keep_sqlite_open() -> Optional[Connection]:
    """On SQLite, one connection held open for the job's duration.

    Each transaction opens and closes its own connection (SQLAlchemy's NullPool);
    when the last connection to a WAL database closes, SQLite checkpoints and
    removes the WAL, which costs several disk syncs per transaction. Keeping one
    idle connection open avoids that, and changes nothing else.
    """
    db = database()
    return db.engine.connect() if db.is_sqlite else None


async def _call(progress: ProgressCallback, status: AlertStatus) -> None:
    result = progress(status)
    if inspect.isawaitable(result):
        await result


async def run_delivery(
    alert_id: int,
    progress: Optional[ProgressCallback] = None,
    *,
    senders: Optional[Mapping[str, OutboundSender]] = None,
    rates: Optional[Mapping[str, float]] = None,
    settings: Optional[DeliverySettings] = None,
    takeover: bool = False,
    progress_every: float = 0.5,
    stop: Optional[asyncio.Event] = None,
) -> AlertStatus:
    """Deliver an alert until nothing is pending; returns the final counts.

    `senders` defaults to the channels registered in this process
    (bot.channels.outbound; call `load_senders_from_env()` first outside the
    Rasa server), `rates` to ALERT_RATE_<CHANNEL>. `progress` is called with
    the alert's status every `progress_every` seconds and at the end. Raises
    AlertBusy when another job holds the alert (unless `takeover`). Setting
    `stop` ends the job gently: messages on their way finish, the rest stay
    pending for the next job. (Cancelling the task ends it at once: messages
    on their way then become unconfirmed.)
    """
    job = DeliveryJob(alert_id, senders=senders, rates=rates, settings=settings, takeover=takeover, stop=stop)
    return await job.run(progress, progress_every)


async def send_alert(
    topic: str,
    zone: str,
    severity: str,
    text: str,
    created_by: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    **options: Any,
) -> AlertStatus:
    """Write an alert and deliver it (what a staff console's "send" button does)."""
    alert = await store.create_alert(topic, zone, severity, text, created_by)
    return await run_delivery(alert.id, progress, **options)


async def unfinished_alerts() -> List[int]:
    """Alerts with deliveries left whose lease is free (their job stopped or never started)."""
    now = utcnow()
    rows = await store.run(
        lambda c: c.execute(
            sa.select(alerts.c.id)
            .where(alerts.c.state.in_([QUEUED, DELIVERING]))
            .where(sa.or_(alerts.c.lease_until.is_(None), alerts.c.lease_until < now))
            .order_by(alerts.c.id)
        ).all()
    )
    return [row.id for row in rows]


async def resume_unfinished(**options: Any) -> List[AlertStatus]:
    """Deliver every unfinished alert nobody is delivering (one after the other)."""
    finished = []
    for alert_id in await unfinished_alerts():
        try:
            finished.append(await run_delivery(alert_id, **options))
        except AlertBusy:
            continue  # another process got there first
    return finished


async def _deliver_in_background(alert_id: int, options: Dict[str, Any]) -> None:
    try:
        await run_delivery(alert_id, **options)
    except AlertBusy:
        pass  # another process got there first
    except Exception:  # noqa: BLE001 - the next round tries again
        logger.exception("alert %s: delivery job failed", alert_id)


async def alert_loop(stop: asyncio.Event, every: float = 5.0, grace: float = 30.0, **options: Any) -> None:
    """For the worker: deliver alerts written elsewhere or left by a stopped job, until `stop` is set.

    Each alert gets its own job (they share the process's rate limiters). When
    `stop` is set, the jobs finish the messages on their way (up to `grace`
    seconds) and leave the rest pending for the next start.
    """
    running: Dict[int, "asyncio.Task[None]"] = {}
    try:
        while not stop.is_set():
            try:
                for alert_id in await unfinished_alerts():
                    if alert_id not in running or running[alert_id].done():
                        running[alert_id] = asyncio.ensure_future(
                            _deliver_in_background(alert_id, {**options, "stop": stop})
                        )
            except Exception:  # noqa: BLE001 - never let one bad round stop the loop
                logger.exception("alert delivery round failed")
            running = {alert_id: task for alert_id, task in running.items() if not task.done()}
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except asyncio.TimeoutError:
                pass
    finally:
        if running:
            _, late = await asyncio.wait(set(running.values()), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
