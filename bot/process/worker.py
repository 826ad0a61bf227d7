"""`citybot worker`: delivers the report outbox, sends status updates, reads the jobs feed and sends job alerts,
and runs the daily retention job.

Runs beside the Rasa server and the action server. Everything it does is stored
first and safe to repeat, so it can be killed and restarted at any moment, and
several workers may run at once (each report is claimed before an attempt).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Optional

from bot.alerts.delivery.loop import alert_loop
from bot.channels.outbound import NotDeliverable, close_senders, deliver_update, load_senders_from_env
from bot.i18n.city import branding
from bot.i18n.messages import Messages, messages
from bot.i18n.store import language_for
from bot.jobs.schedule import jobs_loop
from bot.open311.client import Open311Client, client_from_env
from bot.open311.models import Open311Error
from bot.reports import outbox
from bot.reports.outbox import FILED, OutboxItem
from bot.reports.status import service_label
from bot.reports.updates.notifier import send_pending
from bot.reports.updates.poller import poll_back_office
from bot.reports.updates.store import subscribe
from bot.retention.schedule import retention_loop
from bot.settings import settings

logger = logging.getLogger(__name__)


def outcome_text(item: OutboxItem, texts: Optional[Messages] = None) -> str:
    """What the resident is told once the back office has answered for a stored report.

    In `texts` (the resident's stored language), else the language they reported in.
    """
    texts = texts or messages(item.language)
    what = service_label(texts, item.service_code, item.service_name).lower()
    if item.state == FILED:
        return texts.text(
            "reports.outcome.filed", service=what, reference=item.reference, request_id=item.service_request_id
        )
    return texts.text(
        "reports.outcome.rejected", service=what, reference=item.reference, phone=branding(texts.language).phone
    )


async def follow_filed(item: OutboxItem, client: Open311Client) -> None:
    """Subscribe the resident to their filed request, from its current state on."""
    if item.state != FILED or not item.sender_id or not item.service_request_id:
        return
    request = await client.get_request(item.service_request_id)
    if request is not None:
        await subscribe(item.sender_id, request)


async def tell_outcomes(client: Open311Client) -> int:
    """Tell residents the city's id (or a refusal) for reports delivered in the background."""
    told = 0
    for item in await outbox.untold_outcomes():
        try:
            await follow_filed(item, client)
            if item.sender_id:
                texts = messages(await language_for(item.sender_id))
                await deliver_update(item.sender_id, outcome_text(item, texts))
                told += 1
        except NotDeliverable as reason:
            logger.info("outcome of %s not deliverable: %s", item.reference, reason)
        except Open311Error as error:
            logger.info("could not read back %s yet: %s", item.reference, error)
            continue
        except Exception as error:  # a channel API failure: try again next round
            logger.warning("telling the outcome of %s failed: %s", item.reference, error)
            continue
        await outbox.mark_told(item.reference)
    return told


async def deliver_due(client: Open311Client) -> int:
    """One pass over the outbox: every due report gets one attempt."""
    done = 0
    for reference in await outbox.due():
        item = await outbox.claim(reference)
        if item is not None:
            await outbox.attempt(item, client)
            done += 1
    return done


async def run(stop: asyncio.Event, outbox_every: float, status_every: float) -> None:
    """Loop until `stop` is set."""
    client = client_from_env()
    load_senders_from_env()
    # Crisis alerts written by staff (or left by a stopped job) are delivered here too.
    alerts = asyncio.ensure_future(alert_loop(stop))
    # And the privacy promise is kept here: what is older than the retention limit goes, once a day.
    retention = asyncio.ensure_future(retention_loop(stop))
    # The city's job postings: the feed read every JOBS_REFRESH_SECONDS, and job alerts of new postings.
    jobs = asyncio.ensure_future(jobs_loop(stop))
    last_status_poll = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await deliver_due(client)
            await tell_outcomes(client)
            if loop.time() - last_status_poll >= status_every:
                last_status_poll = loop.time()
                await poll_back_office(client)
            await send_pending()
        except Exception:  # never let one bad round stop the worker
            logger.exception("worker round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=outbox_every)
        except asyncio.TimeoutError:
            pass
    await alerts
    await retention
    await jobs
    await close_senders()
    await client.aclose()


def main(argv: Optional[list] = None) -> int:
    config = settings()
    logging.basicConfig(level=config.log_level or "INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")
    outbox_every = config.outbox_poll_seconds
    status_every = config.status_poll_seconds

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        logger.info("worker started (outbox every %ss, status every %ss)", outbox_every, status_every)
        await run(stop, outbox_every, status_every)
        logger.info("worker stopped")

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
