"""The lock stores shared by several Rasa processes (bot.rasa_ext.locks): on the real local Redis, in SQLite and
PostgreSQL, and as kernel locks on a file.

Each store below has its own connections, as each Rasa process has: what one
process changes in a lock, the others see only through Redis or the database.
The test processes keep their log of who was served in Redis either way.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import redis
import redis.asyncio
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore

from bot.rasa_ext.locks import COMMANDS_PER_LOCK_SCRIPT, AtomicRedisLockStore, DatabaseLockStore, FileLockStore

REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:6379") + f"/{random.randint(1, 15)}"


def make_store(kind: str, url: str) -> LockStore:
    if kind == "file":
        return FileLockStore(path=url)
    return AtomicRedisLockStore(url=url) if kind == "redis" else DatabaseLockStore(url=url)


POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["redis", "sqlite", "postgresql", "file"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[str, str]:
    """Which store, and its URL."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as error:
        pytest.fail(f"this test needs Redis at {REDIS_URL}: {error}")
    if request.param == "redis":
        return "redis", REDIS_URL
    if request.param == "postgresql":
        return "database", POSTGRES_URL
    if request.param == "file":
        return "file", str(tmp_path / "conversation-locks")
    return "database", f"sqlite:///{tmp_path / 'locks.db'}"


@pytest.fixture
def stores(where: Tuple[str, str]) -> List[LockStore]:
    return [make_store(*where) for _ in range(4)]


def handle_messages(kind: str, url: str, log_url: str, conversation: str, messages: List[int], start_at: float) -> None:
    """One Rasa process: handles its share of the conversation's messages, all at once."""

    async def handle(store: LockStore, message: int) -> None:
        async with store.lock(conversation):
            watch = redis.asyncio.Redis.from_url(log_url)
            inside = await watch.incr(f"{conversation}:inside")
            await asyncio.sleep(random.uniform(0, 0.005))  # a turn awaits the tracker store, actions...
            await watch.rpush(f"{conversation}:served", f"{message}:{inside}")
            await watch.decr(f"{conversation}:inside")
            await watch.close()

    async def main() -> None:
        store = make_store(kind, url)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(handle(store, message) for message in messages))

    asyncio.run(main())


def test_messages_of_one_conversation_never_overlap_across_processes(where: Tuple[str, str], stores: List[LockStore]):
    """Forty messages arriving at the same instant on four processes: one at a time, none lost, lock gone after.

    Rasa's own RedisLockStore fails this: its read-modify-write lets two
    processes take the same ticket.
    """
    conversation = f"resident-{uuid.uuid4().hex}"
    start_at = time.time() + 1.5  # every process is up and waiting by then
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=handle_messages, args=(*where, REDIS_URL, conversation, list(range(i, 40, 4)), start_at))
        for i in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    for process in processes:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    check = redis.Redis.from_url(REDIS_URL)
    served = [entry.decode().split(":") for entry in check.lrange(f"{conversation}:served", 0, -1)]
    check.delete(f"{conversation}:served", f"{conversation}:inside")
    assert sorted(int(message) for message, _ in served) == list(range(40))
    assert all(inside == "1" for _, inside in served), f"messages handled at once: {served}"
    assert stores[0].get_lock(conversation) is None  # nothing left behind


async def test_a_message_waits_for_the_one_before_it(stores: List[LockStore]):
    """Tickets are served in the order they were issued, whichever process holds them."""
    conversation = f"resident-{uuid.uuid4().hex}"
    order: List[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with stores[0].lock(conversation):
            first_inside.set()
            await asyncio.sleep(0.2)
            order.append("first")

    async def second() -> None:
        await first_inside.wait()
        async with stores[1].lock(conversation):
            order.append("second")

    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=30)
    assert order == ["first", "second"]


async def test_other_conversations_do_not_wait(stores: List[LockStore]):
    """A long turn in one conversation does not hold up another conversation."""
    busy, other = f"busy-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"
    held = asyncio.Event()
    release = asyncio.Event()

    async def long_turn() -> None:
        async with stores[0].lock(busy):
            held.set()
            await release.wait()

    task = asyncio.create_task(long_turn())
    await held.wait()
    async with stores[1].lock(other):
        pass  # got in while the busy conversation is still locked
    release.set()
    await asyncio.wait_for(task, timeout=10)


def hold_file_lock_then_die(path: str, conversation: str, held: "multiprocessing.synchronize.Event") -> None:
    """A Rasa process that crashes in the middle of a turn, its lock still taken."""

    async def main() -> None:
        async with FileLockStore(path=path).lock(conversation):
            held.set()
            await asyncio.sleep(0.3)
            os._exit(1)

    asyncio.run(main())


async def test_a_crashed_process_leaves_no_file_lock_behind(tmp_path: Path):
    """The kernel drops a dead process's locks: the next message is served at once, not after the lifetime."""
    path, conversation = str(tmp_path / "conversation-locks"), f"resident-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    crashing = context.Process(target=hold_file_lock_then_die, args=(path, conversation, held))
    crashing.start()
    assert await asyncio.to_thread(held.wait, 30)
    store = FileLockStore(path=path)
    assert store.get_lock(conversation) is not None  # taken by the other process
    with pytest.raises(LockError):  # waits no longer than the lock's lifetime
        async with store.lock(conversation, lock_lifetime=0.1):
            pass
    await asyncio.to_thread(crashing.join, 30)
    assert crashing.exitcode == 1
    async with store.lock(conversation, lock_lifetime=1):
        assert store.get_lock(conversation) is not None
    assert store.get_lock(conversation) is None


async def test_file_locks_serve_one_process_messages_in_arrival_order(tmp_path: Path):
    store = FileLockStore(path=str(tmp_path / "conversation-locks"))
    conversation, served = f"resident-{uuid.uuid4().hex}", []

    async def message(number: int) -> None:
        await asyncio.sleep(number * 0.01)  # arrive one after the other
        async with store.lock(conversation):
            await asyncio.sleep(0.05 - number * 0.01)  # earlier turns take longer
            served.append(number)

    await asyncio.wait_for(asyncio.gather(*(message(n) for n in range(5))), timeout=10)
    assert served == [0, 1, 2, 3, 4]


def redis_calls(client: redis.Redis) -> Dict[str, int]:
    """How many times Redis has run each command since it started."""
    return {name: stats["calls"] for name, stats in client.info("commandstats").items()}


async def test_a_redis_ticket_is_taken_and_released_in_one_round_trip_each_on_rasas_lock():
    """The scripts keep Rasa's TicketLock as Rasa stores it, drop expired tickets, and leave nothing behind."""
    store, client = AtomicRedisLockStore(url=REDIS_URL), redis.Redis.from_url(REDIS_URL)
    conversation = f"resident-{uuid.uuid4().hex}"
    stale = TicketLock(conversation, deque([Ticket(4, time.time() - 1)]))  # a crashed process's ticket
    store.save_lock(stale)
    async with store.lock(f"warm-up-{uuid.uuid4().hex}"):
        pass  # the scripts loaded into Redis
    before = redis_calls(client)
    async with store.lock(conversation) as lock:
        inside = redis_calls(client)
        assert [ticket.number for ticket in lock.tickets] == [0]  # the expired one is gone, as in Rasa's issue_ticket
        held = store.get_lock(conversation)  # Rasa's own reader
        assert held is not None and [ticket.number for ticket in held.tickets] == [0] and not held.is_locked(0)
        queued, _ = await store.take_ticket(conversation, 60)
        assert queued == 1 and store.get_lock(conversation).is_locked(1)  # type: ignore[union-attr]
        await store.release_ticket(conversation, queued)
    after = redis_calls(client)
    assert store.get_lock(conversation) is None
    assert inside.get("cmdstat_evalsha", 0) - before.get("cmdstat_evalsha", 0) == 1
    assert after.get("cmdstat_watch", 0) == before.get("cmdstat_watch", 0)  # no transaction


async def test_each_lock_script_runs_the_commands_the_bench_counts_for_it():
    """bench/estimate.py takes a script's commands inside Redis out of the round trips: as many as said."""
    store, client = AtomicRedisLockStore(url=REDIS_URL), redis.Redis.from_url(REDIS_URL)
    async with store.lock(f"warm-up-{uuid.uuid4().hex}"):
        pass
    before = redis_calls(client)
    for _ in range(10):
        async with store.lock(f"resident-{uuid.uuid4().hex}"):
            pass
    after = redis_calls(client)
    ran = {name: after[name] - before.get(name, 0) for name in after if name != "cmdstat_info"}
    scripts = ran.pop("cmdstat_evalsha")
    assert scripts == 20  # one to take the ticket, one to release it
    assert sum(ran.values()) == COMMANDS_PER_LOCK_SCRIPT * scripts
