"""Finding alerts nobody is delivering and delivering them: the worker's loop and `citybot alerts resume`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from bot.alerts import store
from bot.alerts.delivery.job import run_delivery
from bot.alerts.delivery.lease import AlertBusy
from bot.alerts.delivery.page import close_client, publish_due
from bot.alerts.store import DELIVERING, QUEUED, AlertStatus
from bot.db.engine import utcnow
from bot.db.schema import alerts

logger = logging.getLogger(__name__)


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
    except Exception:
        logger.exception("alert %s: delivery job failed", alert_id)


async def alert_loop(stop: asyncio.Event, every: float = 5.0, grace: float = 30.0, **options: Any) -> None:
    """For the worker: deliver alerts written elsewhere or left by a stopped job, until `stop` is set.

    Each alert gets its own job (they share the process's rate limiters). When
    `stop` is set, the jobs finish the messages on their way (up to `grace`
    seconds) and leave the rest pending for the next start. Sent alerts staff
    chose to publish on the city's Facebook Page are posted here too (one job
    at a time in this process; each post claimed first).
    """
    running: Dict[int, "asyncio.Task[None]"] = {}
    posting: Optional["asyncio.Task[int]"] = None
    try:
        while not stop.is_set():
            try:
                for alert_id in await unfinished_alerts():
                    if alert_id not in running or running[alert_id].done():
                        running[alert_id] = asyncio.ensure_future(
                            _deliver_in_background(alert_id, {**options, "stop": stop})
                        )
            except Exception:
                logger.exception("alert delivery round failed")
            if posting is None or posting.done():
                if posting is not None and not posting.cancelled() and posting.exception() is not None:
                    logger.error("Facebook Page posts failed: %s", posting.exception())
                posting = asyncio.ensure_future(publish_due(options.get("settings")))
            running = {alert_id: task for alert_id, task in running.items() if not task.done()}
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except asyncio.TimeoutError:
                pass
    finally:
        if posting is not None:
            await asyncio.gather(posting, return_exceptions=True)
            await close_client()
        if running:
            _, late = await asyncio.wait(set(running.values()), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
