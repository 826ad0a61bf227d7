"""The retention job once a day, inside the worker (`citybot worker`).

The first run comes a minute after the worker starts (not during the stack's
start-up), then one a day. Several workers may each run it: the job only
forgets what is older than the limit, so a second run finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging

from bot.retention.job import run_retention

logger = logging.getLogger(__name__)

FIRST_RUN_SECONDS = 60.0
EVERY_SECONDS = 24 * 60 * 60.0


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        return False
    return True


async def retention_loop(
    stop: asyncio.Event, first_after: float = FIRST_RUN_SECONDS, every: float = EVERY_SECONDS
) -> None:
    """Run the retention job after `first_after` seconds, then every `every` seconds, until `stop` is set."""
    if await stopped_within(stop, first_after):
        return
    while True:
        try:
            await run_retention(stopping=stop.is_set)
        except Exception:  # a failed run must not stop the worker: tomorrow's tries again
            logger.exception("retention run failed")
        if await stopped_within(stop, every):
            return
