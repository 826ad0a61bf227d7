"""The delivery job: feeds each lane's senders the due rows, pass after pass, until none is pending.

It ties the parts together (lease, lanes, claims, group commit) and owns what
happens around one send: the limiter's tokens, the outcome, the retry delay.
See bot.alerts.delivery for the whole story.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import timedelta
from functools import partial
from typing import Any, Awaitable, Callable, List, Mapping, Optional, Set, Union

from sqlalchemy.engine import Connection

from bot.alerts import store
from bot.alerts.delivery.claims import Claim, Due, Rows
from bot.alerts.delivery.failures import is_permanent, retry_after, short
from bot.alerts.delivery.group_commit import BatchWriter
from bot.alerts.delivery.lanes import Lane, open_lanes
from bot.alerts.delivery.lease import Lease
from bot.alerts.delivery.settings import DeliverySettings, new_job_id
from bot.alerts.store import CANCELLED, DRAFT, FAILED, PENDING, SENT, SKIPPED, AlertStatus
from bot.channels.outbound import NotDeliverable, OutboundSender
from bot.db.engine import database, utcnow

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[AlertStatus], Union[None, Awaitable[None]]]


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
        self.job_id = job_id or new_job_id()
        self.lease = Lease(alert_id, self.job_id, self.settings.lease_seconds, takeover)
        self.rows = Rows(alert_id, self.job_id, self.settings.lease_seconds, self.settings.page_size)
        self.writer = BatchWriter(self.rows.write_round, self.settings.batch_size)
        self.unavailable: List[str] = []
        self._on_the_wire: Set[int] = set()  # claimed rows whose send has started and not ended

    # --- sending ----------------------------------------------------------------------

    async def _send(self, lane: Lane, claim: Claim) -> None:
        assert lane.sender is not None
        record = partial(self.writer.outcome, id=claim.id)
        for _ in range(lane.cost(claim.language)):  # evenly spaced on the wire, even when claims came back together
            await lane.limit.send.acquire()
        self._on_the_wire.add(claim.id)
        try:
            await lane.sender.send(claim.address, self.rows.message(claim.language))
        except NotDeliverable as reason:
            record(state=SKIPPED, error=str(reason)[:500])
        except Exception as error:
            if is_permanent(error) or claim.attempts >= self.settings.max_attempts:
                logger.warning("alert %s: delivery %s failed for good: %s", self.alert_id, claim.id, short(error))
                record(state=FAILED, error=short(error))
            else:
                delay = max(self.settings.backoff(claim.attempts), retry_after(error))
                logger.info(
                    "alert %s: delivery %s failed (attempt %d), retry in %.1fs: %s",
                    self.alert_id,
                    claim.id,
                    claim.attempts,
                    delay,
                    short(error),
                )
                record(state=PENDING, error=short(error), at=utcnow() + timedelta(seconds=delay))
        else:
            record(state=SENT, at=utcnow())
        self._on_the_wire.discard(claim.id)  # not reached when the job is cancelled mid-send

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _take_more(self, lane: Lane, batch: List[Due]) -> None:
        """Rows written here are delivered by their claim: take a few more waiting ones along."""
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
                for _ in range(sum(lane.cost(due.language) for due in batch)):
                    await lane.limit.claim.acquire()
                if self._stopping():
                    continue
                try:
                    claims = await asyncio.gather(*(self.writer.claim(due.id) for due in batch))
                except Exception as error:
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
            skipped = await store.run(partial(self.rows.skip_unreachable, lane.channel))
            if skipped:
                logger.info(
                    "alert %s: %d %s recipient(s) opted out or unsubscribed meanwhile",
                    self.alert_id,
                    skipped,
                    lane.channel,
                )
            after = 0
            while True:
                rows = await store.run(partial(self.rows.due, lane.channel, after))
                if not rows:
                    break
                for due in rows:
                    if self._stopping():
                        break
                    await lane.queue.put(due)
                if self._stopping():
                    break
                after = rows[-1].id
            await lane.queue.join()
            await self.writer.flush()
            if self._stopping():
                return
            waiting, next_at = await store.run(partial(self.rows.waiting, lane.channel))
            if waiting == 0:
                return
            delay = (next_at - utcnow()).total_seconds() if next_at is not None else 0.0
            await asyncio.sleep(min(max(delay, 0.05), self.settings.idle_poll_seconds))
            if self._stopping():
                return

    async def _report(self, progress: ProgressCallback, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await _call(progress, await store.alert_status(self.alert_id))

    async def run(self, progress: Optional[ProgressCallback] = None, progress_every: float = 0.5) -> AlertStatus:
        alert = self.rows.alert = await store.run(self.lease.take)
        if alert.state in (CANCELLED, DRAFT):
            return await store.alert_status(self.alert_id)
        keeper = _keep_sqlite_open()
        self.writer.start()
        helpers: List["asyncio.Task[None]"] = [asyncio.ensure_future(self.lease.heartbeat())]
        if progress is not None:
            helpers.append(asyncio.ensure_future(self._report(progress, progress_every)))
        work: Optional["asyncio.Future[Any]"] = None
        try:
            lanes, self.unavailable = await open_lanes(self.rows, self.senders, self.rates, self.settings)
            for lane in lanes:
                logger.info(
                    "alert %s: %s at %s/s with %d sender(s), send(s) per message by language: %s",
                    self.alert_id,
                    lane.channel,
                    lane.limit.rate or "unlimited",
                    lane.concurrency,
                    lane.costs,
                )
            work = asyncio.gather(*(self._dispatch(lane) for lane in lanes))
            first: Set["asyncio.Future[Any]"] = {work, helpers[0]}  # the work, or the lease heartbeat failing
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
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
            await store.run(partial(self.lease.release, self._on_the_wire))
            if keeper is not None:
                await asyncio.to_thread(keeper.close)
        status = await store.alert_status(self.alert_id)
        if progress is not None:
            await _call(progress, status)
        logger.info(
            "alert %s: %d sent, %d failed, %d skipped, %d unconfirmed, %d pending",
            self.alert_id,
            status.sent,
            status.failed,
            status.skipped,
            status.unconfirmed,
            status.pending,
        )
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
