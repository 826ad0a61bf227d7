"""Round trips to the scale-out setup's shared servers: Redis commands and PostgreSQL transactions served."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Dict, Optional

# A script is one request from its client; the commands it runs inside Redis are counted too.
SCRIPT_COMMANDS = ("cmdstat_eval", "cmdstat_evalsha")


def _redis_commandstats(url: Optional[str]) -> Optional[Dict[str, Dict[str, Any]]]:
    """Redis's INFO commandstats (None without a URL or a server)."""
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url)
    try:
        return client.info("commandstats")
    except redis.RedisError:
        return None
    finally:
        with contextlib.suppress(Exception):
            client.close()


def redis_commands(url: Optional[str]) -> Optional[int]:
    """Commands the Redis server has run since it started (INFO's own calls left out).

    The commands a script runs inside Redis are among them: see `redis_script_runs`.
    """
    stats = _redis_commandstats(url)
    if stats is None:
        return None
    return sum(int(entry["calls"]) for name, entry in stats.items() if name != "cmdstat_info")


def redis_script_runs(url: Optional[str]) -> Optional[int]:
    """Scripts the Redis server has run since it started (EVAL and EVALSHA calls)."""
    stats = _redis_commandstats(url)
    if stats is None:
        return None
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in SCRIPT_COMMANDS)


def postgres_transactions(url: Optional[str]) -> Optional[int]:
    """Transactions a PostgreSQL database has committed or rolled back.

    Read on a bare connection in autocommit, so the reading is one transaction
    (SQLAlchemy's first connection would add its own set-up queries).
    """
    if not url:
        return None
    import psycopg2
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    try:
        connection = psycopg2.connect(
            host=parts.host, port=parts.port, user=parts.username, password=parts.password, dbname=parts.database
        )
    except psycopg2.Error:
        return None
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
            row = cursor.fetchone()
    except psycopg2.Error:
        return None
    finally:
        connection.close()
    return None if row is None or row[0] is None else int(row[0])


def settled_postgres_transactions(url: Optional[str], wait_s: float = 1.0, readings: int = 15) -> Optional[int]:
    """The count once every connection's statistics have arrived: read until only our readings add to it.

    PostgreSQL sends a connection's counts at most once a second, and later
    when it goes idle. Each reading adds a transaction or two of its own: a
    few among the thousands of a load level.
    """
    previous = postgres_transactions(url)
    for _ in range(readings):
        if previous is None:
            return None
        time.sleep(wait_s)
        current = postgres_transactions(url)
        if current is not None and current - previous <= 2:
            return current
        previous = current
    return previous


def round_trips_snapshot(database_url: Optional[str], redis_url: Optional[str]) -> Dict[str, Optional[int]]:
    """The shared servers' counters now (None for a server the setup does not use)."""
    return {
        "redis_commands": redis_commands(redis_url),
        "redis_script_runs": redis_script_runs(redis_url),
        "postgres_transactions": settled_postgres_transactions(database_url),
    }


def add_round_trips(total: Dict[str, int], before: Dict[str, Optional[int]], after: Dict[str, Optional[int]]) -> None:
    """Add what the servers served between two snapshots to `total`."""
    for key, value in after.items():
        start = before.get(key)
        if value is not None and start is not None:
            total[key] = total.get(key, 0) + max(0, value - start)
