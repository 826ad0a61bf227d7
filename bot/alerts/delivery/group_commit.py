"""Group commit: the job's claims and outcomes share transactions, so a slow disk costs one commit per round."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import store

logger = logging.getLogger(__name__)


class BatchWriter:
    """Writes the job's claims and outcomes together: one transaction per round (group commit).

    Senders ask for claims and report outcomes; each round commits every
    outcome reported meanwhile and claims every row asked for, with a handful
    of set-based statements, so a slow disk costs one commit per round, not
    per message. `apply(connection, ids, outcomes)` does the work.
    """

    def __init__(
        self, apply: Callable[[Connection, List[int], List[Dict[str, Any]]], Dict[int, Any]], batch_size: int = 500
    ) -> None:
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
                claims, self._claims = self._claims[: self.batch_size], self._claims[self.batch_size :]
                outcomes, self._outcomes = self._outcomes, []
                flushes, self._flushes = self._flushes, []
                ids = [delivery_id for delivery_id, _ in claims]
                try:
                    results = await self._commit(ids, outcomes)
                except Exception as error:
                    logger.error(
                        "alert delivery: could not write %d claim(s) and %d outcome(s): %s",
                        len(claims),
                        len(outcomes),
                        error,
                    )
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
