"""The worker's jobs steps (`citybot worker`): read the feed every JOBS_REFRESH_SECONDS, send job alerts.

Reading the feed stores it (the last good copy) and writes the alerts of new
postings in one transaction (bot.jobs.alerts.announce_new); the alerts that are
due go out every few seconds. Both are safe to repeat and to run in several
workers at once; a failed step is logged and tried again on the next round.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

import httpx

from bot.jobs.alerts import announce_new, deliver_job_alerts
from bot.jobs.parse import Feed
from bot.jobs.source import refresh
from bot.retention.schedule import stopped_within
from bot.settings import settings

logger = logging.getLogger(__name__)

DELIVERY_EVERY_SECONDS = 5.0


async def refresh_jobs(client: Optional[httpx.AsyncClient] = None) -> Optional[Feed]:
    """Read the feed once: keep it when good and write the alerts of its new postings."""
    return await refresh(client, then=announce_new)


async def jobs_loop(stop: asyncio.Event, every: Optional[float] = None, deliver_every: Optional[float] = None) -> None:
    """Read the feed now and every `every` seconds (JOBS_REFRESH_SECONDS), send due alerts, until `stop`."""
    config = settings()
    every = config.jobs_refresh_seconds if every is None else every
    tick = min(DELIVERY_EVERY_SECONDS if deliver_every is None else deliver_every, every)
    loop = asyncio.get_running_loop()
    last_read: Optional[float] = None
    async with httpx.AsyncClient(timeout=config.jobs_feed_timeout, follow_redirects=True) as client:
        while not stop.is_set():
            try:
                if last_read is None or loop.time() - last_read >= every:
                    last_read = loop.time()
                    await refresh_jobs(client)
                await deliver_job_alerts()
            except Exception:  # never let one bad round stop the worker
                logger.exception("jobs round failed")
            if await stopped_within(stop, tick):
                return
