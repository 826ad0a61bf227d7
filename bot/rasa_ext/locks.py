"""Lock stores for several Rasa processes: Redis, the database, or kernel locks on a file.

Rasa keeps one conversation's messages in order with a ticket lock. Its own
`RedisLockStore` reads the lock, changes it in Python and writes it back: two
messages of one conversation reaching two Rasa processes in the same
millisecond can both read "no tickets", both get ticket 0, and be handled at
once (the tracker store then keeps only one of the two turns). In this store,
taking a ticket and releasing one are each one script run inside Redis (atomic,
and one round trip instead of a transaction's five commands), any other change
to a lock is one transaction (WATCH/MULTI, retried when another process changed
the lock in between), it talks to Redis with the asyncio client
(no blocking call on the Rasa server's event loop), and waits for its turn with
short polls rather than Rasa's one-second sleep.

Without Redis, `DatabaseLockStore` does the same with a row per conversation
in the assistant's own database (`DATABASE_URL`): each change is one
transaction that first takes the row for writing. Rasa processes that all run
on one machine (`citybot run`'s workers on SQLite) use `FileLockStore`
instead: one kernel lock per conversation on a file, one system call to take
it and one to release it.

endpoints.yml selects one by module path (bot/process/stack.py sets it: Redis when
`REDIS_URL` is set, else the database with `DATABASE_URL`, else the file):

    lock_store:
      type: bot.rasa_ext.locks.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import json
import logging
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, Optional, Tuple, TypeVar

import redis
import redis.asyncio
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.db.engine import Database, database, placeholder, raw_transaction, var_dir
from bot.db.schema import conversation_locks

logger = logging.getLogger(__name__)

KEY_PREFIX = "citybot:lock:"
LOCK_FILE_NAME = "conversation-locks"  # FileLockStore's file in the var folder, unless given one
# The first polls come quickly (a turn takes tens of milliseconds), then slow down.
FIRST_POLL_S = 0.01
LONGEST_POLL_S = 0.2
Result = TypeVar("Result")


class AtomicLockStore(LockStore):
    """Ticket locks whose every change is atomic across processes; subclasses say where locks live."""

    async def change_lock(self, conversation_id: str, change: Callable[[TicketLock], Result]) -> Result:
        """Apply `change` to a conversation's lock atomically; a lock left with no tickets is deleted."""
        raise NotImplementedError

    async def read_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The conversation's lock as stored now, or None."""
        raise NotImplementedError

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock while the body runs; messages are served in arrival order."""

        ticket, free = await self.take_ticket(conversation_id, lock_lifetime)
        try:
            yield free or await self._wait_for_turn(conversation_id, ticket, wait_time_in_seconds)
        finally:
            await self.release_ticket(conversation_id, ticket)

    async def take_ticket(self, conversation_id: str, lock_lifetime: float) -> Tuple[int, Optional[TicketLock]]:
        """A new ticket for the conversation, and its lock when the ticket is served at once."""

        def take(lock: TicketLock) -> Tuple[int, Optional[TicketLock]]:
            ticket = lock.issue_ticket(lock_lifetime)
            return ticket, None if lock.is_locked(ticket) else lock

        return await self.change_lock(conversation_id, take)

    async def release_ticket(self, conversation_id: str, ticket: int) -> None:
        """Give the conversation's lock to the next ticket (a lock left with no tickets is deleted)."""
        await self.change_lock(conversation_id, lambda lock: lock.remove_ticket_for(ticket))

    async def _wait_for_turn(self, conversation_id: str, ticket: int, longest_poll_s: float) -> TicketLock:
        poll = FIRST_POLL_S
        while True:
            lock = await self.read_lock(conversation_id)
            if lock is not None:
                lock.remove_expired_tickets()
            if lock is None or all(t.number != ticket for t in lock.tickets):
                # Our ticket expired while others held the lock for longer than its lifetime.
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(poll)
            poll = min(poll * 2, LONGEST_POLL_S, max(longest_poll_s, FIRST_POLL_S))


# Commands each of the two scripts below runs inside Redis: GET, then SET or DEL. Redis
# counts them among its commands (INFO commandstats), though no client sent them.
COMMANDS_PER_LOCK_SCRIPT = 2
# Taking and releasing a ticket each run as one script inside Redis (atomic, one round trip),
# on the lock as Rasa's TicketLock stores it (`dumps`: each ticket a JSON string), so
# Rasa's own readers and `read_lock` see the same lock. Expired: older than ARGV[1], now.
_TICKETS_LUA = """
local function live_tickets(raw, now)
  local tickets = {}
  if raw then
    for _, encoded in ipairs(cjson.decode(raw)['tickets']) do
      local ticket = cjson.decode(encoded)
      if ticket['expires'] >= now then table.insert(tickets, ticket) end
    end
  end
  return tickets
end
local function store(key, conversation_id, tickets, expiry)
  if #tickets == 0 then
    redis.call('DEL', key)
    return false
  end
  local encoded = {}
  for i, ticket in ipairs(tickets) do
    encoded[i] = cjson.encode({number = ticket['number'], expires = ticket['expires']})
  end
  local lock = cjson.encode({conversation_id = conversation_id, tickets = encoded})
  redis.call('SET', key, lock, 'EX', expiry)
  return lock
end
"""
TAKE_TICKET_LUA = (
    _TICKETS_LUA
    + """
-- ARGV: now, lifetime, conversation id, expiry (s). Returns the ticket and the lock stored.
local now = tonumber(ARGV[1])
local tickets = live_tickets(redis.call('GET', KEYS[1]), now)
local number = 0
if #tickets > 0 then number = tickets[#tickets]['number'] + 1 end
table.insert(tickets, {number = number, expires = now + tonumber(ARGV[2])})
return {number, store(KEYS[1], ARGV[3], tickets, ARGV[4])}
"""
)
RELEASE_TICKET_LUA = (
    _TICKETS_LUA
    + """
-- ARGV: now, ticket, conversation id, expiry (s). Returns how many tickets are left.
local now = tonumber(ARGV[1])
local kept = {}
for _, ticket in ipairs(live_tickets(redis.call('GET', KEYS[1]), now)) do
  if ticket['number'] ~= tonumber(ARGV[2]) then table.insert(kept, ticket) end
end
store(KEYS[1], ARGV[3], kept, ARGV[4])
return #kept
"""
)


class AtomicRedisLockStore(AtomicLockStore):
    """Ticket locks in Redis, each change of a lock made atomically across processes."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, url: Optional[str] = None) -> None:
        url = url or (endpoint_config.url if endpoint_config else None) or "redis://127.0.0.1:6379/0"
        self.key_prefix = KEY_PREFIX
        self.red = redis.Redis.from_url(url, socket_timeout=10)
        self.async_red = redis.asyncio.Redis.from_url(url, socket_timeout=10)
        self._take = self.async_red.register_script(TAKE_TICKET_LUA)
        self._release = self.async_red.register_script(RELEASE_TICKET_LUA)
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

    async def take_ticket(self, conversation_id: str, lock_lifetime: float) -> Tuple[int, Optional[TicketLock]]:
        """A new ticket in one round trip (a script run inside Redis), and the lock when it is served at once."""
        args = [time.time(), lock_lifetime, conversation_id, _expiry_seconds()]
        ticket, stored = await self._take(keys=[self._key(conversation_id)], args=args)
        lock = _parse(stored)
        return int(ticket), lock if lock is not None and not lock.is_locked(int(ticket)) else None

    async def release_ticket(self, conversation_id: str, ticket: int) -> None:
        """The ticket removed in one round trip (a script run inside Redis); no tickets left, no lock."""
        await self._release(
            keys=[self._key(conversation_id)], args=[time.time(), ticket, conversation_id, _expiry_seconds()]
        )

    async def read_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return _parse(await self.async_red.get(self._key(conversation_id)))


class DatabaseLockStore(AtomicLockStore):
    """Ticket locks in the assistant's database (SQLite or PostgreSQL), for several Rasa processes.

    Each change is one short transaction in plain SQL on a pooled connection:
    a lock changes twice per message, and SQLAlchemy's statement machinery cost
    more than the database work itself.
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, url: Optional[str] = None) -> None:
        url = url or (endpoint_config.url if endpoint_config else None)
        self.database = Database(url) if url else database()
        dialect = self.database.engine.dialect
        if dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"DatabaseLockStore works on SQLite or PostgreSQL, not {dialect.name}")
        mark = placeholder(self.database.engine)
        table = conversation_locks.name
        self._sql = {
            # Writing first makes SQLite take its write lock at once, so two processes
            # never both read and then both try to upgrade; PostgreSQL locks the row.
            "take": f"INSERT INTO {table} (conversation_id, data) VALUES ({mark}, '') "
            f"ON CONFLICT (conversation_id) DO NOTHING",
            "read_taken": f"SELECT data FROM {table} WHERE conversation_id = {mark}"
            + (" FOR UPDATE" if dialect.name == "postgresql" else ""),
            "read": f"SELECT data FROM {table} WHERE conversation_id = {mark}",
            "update": f"UPDATE {table} SET data = {mark} WHERE conversation_id = {mark}",
            "delete": f"DELETE FROM {table} WHERE conversation_id = {mark}",
        }
        super().__init__()

    def _transaction(self, work: Callable[[Any], Result]) -> Result:
        return raw_transaction(self.database.engine, work)

    def _taken(self, cursor: Any, conversation_id: str) -> Optional[TicketLock]:
        """Take the conversation's row for writing (creating it if need be), then read it."""
        cursor.execute(self._sql["take"], (conversation_id,))
        cursor.execute(self._sql["read_taken"], (conversation_id,))
        row = cursor.fetchone()
        return _parse(row[0] if row else None)

    def _write(self, cursor: Any, lock: TicketLock) -> None:
        """Store the lock in its taken row, or delete the row when no ticket is left."""
        if lock.is_someone_waiting():
            cursor.execute(self._sql["update"], (lock.dumps(), lock.conversation_id))
        else:
            cursor.execute(self._sql["delete"], (lock.conversation_id,))

    def _change(self, cursor: Any, conversation_id: str, change: Callable[[TicketLock], Result]) -> Result:
        lock = self._taken(cursor, conversation_id) or TicketLock(conversation_id)
        result = change(lock)
        self._write(cursor, lock)
        return result

    def _read(self, cursor: Any, conversation_id: str) -> Optional[TicketLock]:
        cursor.execute(self._sql["read"], (conversation_id,))
        row = cursor.fetchone()
        return _parse(row[0] if row else None)

    async def change_lock(self, conversation_id: str, change: Callable[[TicketLock], Result]) -> Result:
        return await asyncio.to_thread(self._transaction, lambda cursor: self._change(cursor, conversation_id, change))

    async def read_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return await asyncio.to_thread(self._transaction, lambda cursor: self._read(cursor, conversation_id))

    # The synchronous interface of LockStore, for Rasa code that may use it.
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The lock of a conversation as stored now, or None."""
        return self._transaction(lambda cursor: self._read(cursor, conversation_id))

    def delete_lock(self, conversation_id: str) -> None:
        """Remove a conversation's lock."""

        def delete(cursor: Any) -> bool:
            cursor.execute(self._sql["delete"], (conversation_id,))
            return cursor.rowcount > 0

        self._log_deletion(conversation_id, self._transaction(delete))

    def save_lock(self, lock: TicketLock) -> None:
        """Store a lock."""

        def save(cursor: Any) -> None:
            self._taken(cursor, lock.conversation_id)
            self._write(cursor, lock)

        self._transaction(save)


def _parse(serialised: Optional[bytes | str]) -> Optional[TicketLock]:
    if not serialised:
        return None
    return TicketLock.from_dict(json.loads(serialised))


def _expiry_seconds() -> int:
    """A stored lock outlives its newest ticket a little, then Redis drops it (a crashed process leaves none)."""
    return int(LOCK_LIFETIME) + 5


class FileLockStore(LockStore):
    """Conversation locks for several Rasa processes on one machine: kernel locks on bytes of one file.

    A conversation's lock is one byte of a lock file (at an offset hashed from
    its id), locked with `fcntl.lockf`: taking and releasing it is one system
    call each, made on the event loop, where `DatabaseLockStore` needs two
    database transactions in a worker thread per message. The kernel drops the
    locks of a process that dies, so a crash leaves nothing behind.

    POSIX record locks belong to a process, not to a coroutine: inside one
    process an asyncio lock per conversation (shared by every store on the same
    file) serves its messages one at a time, in arrival order. Across processes
    a message that finds the byte taken polls until it is free, as the other
    stores wait for their ticket, and gives up with `LockError` after the lock
    lifetime (Rasa's LOCK_LIFETIME), as an expired ticket does.
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, path: Optional[str] = None) -> None:
        location = path or (endpoint_config.url if endpoint_config else None) or var_dir() / LOCK_FILE_NAME
        self.path = os.path.abspath(location)
        super().__init__()

    def _file(self) -> "_LockFile":
        return _LockFile.of(self.path)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock while the body runs."""
        lock_file = self._file()
        local = lock_file.local(conversation_id)
        try:
            try:
                await asyncio.wait_for(local.lock.acquire(), timeout=lock_lifetime)
            except asyncio.TimeoutError as error:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.") from error
            try:
                await lock_file.take(conversation_id, lock_lifetime, wait_time_in_seconds)
                try:
                    held = TicketLock(conversation_id)
                    held.issue_ticket(lock_lifetime)
                    yield held
                finally:
                    lock_file.release(conversation_id)
            finally:
                local.lock.release()
        finally:
            lock_file.done_with(conversation_id, local)

    # The synchronous interface of LockStore. Locks live in the kernel while held, not in storage.
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """A lock with one ticket while some process holds the conversation, else None."""
        if not self._file().is_held(conversation_id):
            return None
        held = TicketLock(conversation_id)
        held.issue_ticket(LOCK_LIFETIME)
        return held

    def delete_lock(self, conversation_id: str) -> None:
        """Nothing to delete: a lock exists only while a process holds it."""
        self._log_deletion(conversation_id, False)

    def save_lock(self, lock: TicketLock) -> None:
        """Locks are not stored: `lock` takes and releases them."""
        raise LockError("FileLockStore takes locks with `lock()` only; there is no stored lock to save.")


@dataclass
class _LocalLock:
    """The in-process lock of one conversation, and how many of its messages use it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _LockFile:
    """One process's open lock file and the conversations it holds (one per path and process)."""

    _open: Dict[Tuple[int, str], "_LockFile"] = {}

    def __init__(self, path: str) -> None:
        # Opened once and never closed while the process runs: closing any descriptor of
        # the file would drop every lock this process holds on it.
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.locals: Dict[str, _LocalLock] = {}

    @classmethod
    def of(cls, path: str) -> "_LockFile":
        key = (os.getpid(), path)  # a forked worker opens its own
        if key not in cls._open:
            cls._open[key] = cls(path)
        return cls._open[key]

    def local(self, conversation_id: str) -> _LocalLock:
        local = self.locals.setdefault(conversation_id, _LocalLock())
        local.users += 1
        return local

    def done_with(self, conversation_id: str, local: _LocalLock) -> None:
        local.users -= 1
        if local.users == 0 and self.locals.get(conversation_id) is local:
            del self.locals[conversation_id]

    @staticmethod
    def offset(conversation_id: str) -> int:
        """The conversation's byte in the (sparse) lock file."""
        digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=7).digest()
        return int.from_bytes(digest, "big")

    def try_take(self, conversation_id: str) -> bool:
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, self.offset(conversation_id))
            return True
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise

    async def take(self, conversation_id: str, lock_lifetime: float, longest_poll_s: float) -> None:
        """Take the conversation's byte, polling while another process holds it."""
        deadline = time.monotonic() + lock_lifetime
        poll = FIRST_POLL_S
        while not self.try_take(conversation_id):
            if time.monotonic() >= deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(poll)
            poll = min(poll * 2, LONGEST_POLL_S, max(longest_poll_s, FIRST_POLL_S))

    def release(self, conversation_id: str) -> None:
        fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, self.offset(conversation_id))

    def is_held(self, conversation_id: str) -> bool:
        local = self.locals.get(conversation_id)
        if local is not None and local.lock.locked():
            return True
        if self.try_take(conversation_id):  # free: this process did not hold it, so let it go again
            self.release(conversation_id)
            return False
        return True
