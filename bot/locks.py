"""A Redis lock store for several Rasa processes that issues tickets atomically.

Rasa keeps one conversation's messages in order with a ticket lock. Its own
`RedisLockStore` reads the lock, changes it in Python and writes it back: two
messages of one conversation reaching two Rasa processes in the same
millisecond can both read "no tickets", both get ticket 0, and be handled at
once (the tracker store then keeps only one of the two turns). This store makes
every change to a lock one Redis transaction (WATCH/MULTI, retried when another
process changed the lock in between), talks to Redis with the asyncio client
(no blocking call on the Rasa server's event loop), and waits for its turn with
short polls rather than Rasa's one-second sleep.

endpoints.yml selects it by module path, with the Redis URL (`REDIS_URL`):

    lock_store:
      type: bot.locks.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/0
"""
from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Optional, TypeVar

import redis
import redis.asyncio
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEY_PREFIX = "citybot:lock:"
# The first polls come quickly (a turn takes tens of milliseconds), then slow down.
FIRST_POLL_S = 0.01
LONGEST_POLL_S = 0.2
Result = TypeVar("Result")


class AtomicRedisLockStore(LockStore):
    """Ticket locks in Redis, each change of a lock made atomically across processes."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, url: Optional[str] = None) -> None:
        url = url or (endpoint_config.url if endpoint_config else None) or "redis://127.0.0.1:6379/0"
        self.key_prefix = KEY_PREFIX
        self.red = redis.Redis.from_url(url, socket_timeout=10)
        self.async_red = redis.asyncio.Redis.from_url(url, socket_timeout=10)
        super().__init__()

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    # The synchronous interface of LockStore, for Rasa code that may use it.
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The lock of a conversation as stored now, or None."""
        return _parse(self.red.get(self._key(conversation_id)))

    def delete_lock(self, conversation_id: str) -> None:
        """Remove a conversation's lock."""
        self._log_deletion(conversation_id, bool(self.red.delete(self._key(conversation_id))))

    def save_lock(self, lock: TicketLock) -> None:
        """Store a lock, kept no longer than its tickets can live."""
        self.red.set(self._key(lock.conversation_id), lock.dumps(), ex=_expiry_seconds())

    async def change_lock(self, conversation_id: str, change: Callable[[TicketLock], Result]) -> Result:
        """Apply `change` to a conversation's lock in one transaction; retried if another process got in between.

        A lock left with no tickets is deleted, so Redis holds locks only for
        conversations with a message in flight.
        """
        key = self._key(conversation_id)
        async with self.async_red.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    lock = _parse(await pipe.get(key)) or TicketLock(conversation_id)
                    result = change(lock)
                    pipe.multi()
                    if lock.is_someone_waiting():
                        pipe.set(key, lock.dumps(), ex=_expiry_seconds())
                    else:
                        pipe.delete(key)
                    await pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock while the body runs; messages are served in arrival order."""
        ticket = await self.change_lock(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        try:
            yield await self._wait_for_turn(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await self.change_lock(conversation_id, lambda lock: lock.remove_ticket_for(ticket))

    async def _wait_for_turn(self, conversation_id: str, ticket: int, longest_poll_s: float) -> TicketLock:
        poll = FIRST_POLL_S
        while True:
            lock = _parse(await self.async_red.get(self._key(conversation_id)))
            if lock is not None:
                lock.remove_expired_tickets()
            if lock is None or all(t.number != ticket for t in lock.tickets):
                # Our ticket expired while others held the lock for longer than its lifetime.
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(poll)
            poll = min(poll * 2, LONGEST_POLL_S, max(longest_poll_s, FIRST_POLL_S))


def _parse(serialised: Optional[bytes]) -> Optional[TicketLock]:
    if not serialised:
        return None
    return TicketLock.from_dict(json.loads(serialised))


def _expiry_seconds() -> int:
    """A stored lock outlives its newest ticket a little, then Redis drops it (a crashed process leaves none)."""
    return int(LOCK_LIFETIME) + 5
