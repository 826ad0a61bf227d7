"""A webhook waits for its turn a while, then answers and lets the turn finish (the platform gives up otherwise)."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Set

logger = logging.getLogger(__name__)


class TurnsInFlight:
    """The turns a webhook started: each waited for up to `budget` seconds, a slower one kept running
    (and referenced, so it is not collected) after the webhook has answered."""

    def __init__(self, budget: float, what: str) -> None:
        self.budget = budget
        self.what = what
        self._running: Set["asyncio.Future[None]"] = set()

    async def run(self, work: Awaitable[None]) -> None:
        """Wait for `work` up to the budget; past it, return and let it finish on its own."""
        turn = asyncio.ensure_future(work)
        self._running.add(turn)
        turn.add_done_callback(self._running.discard)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.budget)
        except asyncio.TimeoutError:
            logger.info("%s is taking over %.0fs; answering the webhook now", self.what, self.budget)
