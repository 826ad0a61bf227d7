"""Round trips to the shared servers, counted by the servers themselves (real PostgreSQL and Redis)."""

from __future__ import annotations

import os
import uuid
from typing import Dict

import redis
import sqlalchemy as sa

from bench.backends import (
    add_round_trips,
    postgres_transactions,
    redis_commands,
    redis_script_runs,
    round_trips_snapshot,
)
from bench.databases import create_database, drop_database
from tests.support.databases import POSTGRES_URL

REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:6379")


def test_redis_counts_each_command_it_ran() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"bench-test-{uuid.uuid4().hex}"
    before = redis_commands(REDIS_URL)
    try:
        for _ in range(5):
            client.incr(key)
        client.delete(key)
    finally:
        client.close()
    after = redis_commands(REDIS_URL)
    assert before is not None and after is not None
    # Ours: 6 (another test may use the same server meanwhile, never fewer).
    assert after - before >= 6


def test_a_script_counts_once_as_a_script_and_its_commands_as_commands() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"bench-test-{uuid.uuid4().hex}"
    commands, scripts = redis_commands(REDIS_URL), redis_script_runs(REDIS_URL)
    try:
        client.eval("redis.call('SET', KEYS[1], 1); return redis.call('DEL', KEYS[1])", 1, key)
    finally:
        client.close()
    assert commands is not None and scripts is not None
    # Ours: 1 script running 2 commands, 3 in all (another test may use the server meanwhile, never fewer).
    assert redis_script_runs(REDIS_URL) - scripts >= 1  # type: ignore[operator]
    assert redis_commands(REDIS_URL) - commands >= 3  # type: ignore[operator]


def test_postgres_counts_the_transactions_of_its_database_once_they_have_arrived() -> None:
    url = create_database(POSTGRES_URL, "bench_round_trips")
    engine = sa.create_engine(url)
    try:
        engine.connect().close()  # SQLAlchemy's set-up queries on its first connection, before counting
        before = round_trips_snapshot(url, None)
        for _ in range(4):
            with engine.begin() as connection:
                connection.execute(sa.text("SELECT 1"))
        after = round_trips_snapshot(url, None)  # waits for the pooled connection's counts
        total: Dict[str, int] = {}
        add_round_trips(total, before, after)
        assert before["redis_commands"] is None
        # Ours, and the few of the readings themselves (a connection's start is a transaction too).
        assert 4 <= total["postgres_transactions"] <= 12
    finally:
        engine.dispose()
        drop_database(POSTGRES_URL, url)


def test_an_unused_server_is_not_read() -> None:
    assert redis_commands(None) is None and redis_script_runs(None) is None and postgres_transactions(None) is None
