"""How many messages a second N application machines and one PostgreSQL + Redis pair would serve.

Built from what the scale-out run measured, not from a guess: each part's CPU
time per message (/proc, bench/cpu.py), the round trips per message to the
shared servers (bench/backends.py), and how close the run came to its CPU
bound. Assumptions, stated in the report: application machines like this one,
running Rasa, the action server and the worker (the city's back office runs
elsewhere); a database machine with as many cores; Redis on one core (it runs
commands on one thread); each PostgreSQL transaction at least two round trips;
a Redis script one round trip, the commands it runs inside Redis none.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from bot.rasa_ext.locks import COMMANDS_PER_LOCK_SCRIPT

# What each application machine runs; the rest (back office, load generator, databases) is elsewhere.
APP_PARTS = ("rasa", "actions", "worker", "console")
MACHINE_COUNTS = (1, 2, 4, 8, 16)
# A round trip inside one data centre, for the latency the shared servers add to a message.
NETWORK_ROUND_TRIP_MS = 0.5
ROUND_TRIPS_PER_TRANSACTION = 2


def busiest_level(rows: Dict[str, Any], levels: Sequence[int]) -> Optional[int]:
    """The highest load level that has CPU figures."""
    measured = [level for level in levels if (rows.get(str(level)) or {}).get("cpu_ms_per_message")]
    return max(measured) if measured else None


def capacity_estimate(
    rows: Dict[str, Any], levels: Sequence[int], cores: int, database_cores: Optional[int] = None
) -> Optional[Dict[str, Any]]:
    """The written estimate, from one side's rows of a scale-out run (None without CPU figures)."""
    level = busiest_level(rows, levels)
    if level is None:
        return None
    row = rows[str(level)]
    cpu: Dict[str, float] = row["cpu_ms_per_message"]
    app_ms = sum(cpu.get(part, 0.0) for part in APP_PARTS)
    postgres_ms, redis_ms = cpu.get("postgres", 0.0), cpu.get("redis", 0.0)
    all_ms = sum(cpu.values())
    if app_ms <= 0 or all_ms <= 0 or not row.get("msgs_per_s"):
        return None
    # This run shared the machine's cores among everything: how close did it get to that bound?
    efficiency = min(1.0, row["msgs_per_s"] / (cores * 1000 / all_ms))
    per_app_machine = efficiency * cores * 1000 / app_ms
    database_cores = database_cores or cores
    limits = [database_cores * 1000 / (postgres_ms + redis_ms)] if postgres_ms + redis_ms > 0 else []
    if redis_ms > 0:
        limits.append(1000 / redis_ms)
    database_limit = min(limits) if limits else None
    trips = row.get("round_trips_per_message") or {}
    redis_requests = trips.get("redis_commands", 0.0) - COMMANDS_PER_LOCK_SCRIPT * trips.get("redis_script_runs", 0.0)
    round_trips = redis_requests + ROUND_TRIPS_PER_TRANSACTION * trips.get("postgres_transactions", 0.0)
    return {
        "measured_at_conversations": level,
        "measured_msgs_per_s": row["msgs_per_s"],
        "app_cpu_ms_per_message": round(app_ms, 2),
        "postgres_cpu_ms_per_message": round(postgres_ms, 2),
        "redis_cpu_ms_per_message": round(redis_ms, 2),
        "cpu_efficiency_of_the_run": round(efficiency, 2),
        "msgs_per_s_per_app_machine": round(per_app_machine, 1),
        "database_pair_limit_msgs_per_s": None if database_limit is None else round(database_limit, 1),
        "msgs_per_s_by_app_machines": {
            str(count): round(min(count * per_app_machine, database_limit or float("inf")), 1)
            for count in MACHINE_COUNTS
        },
        "redis_requests_per_message": round(redis_requests, 1),
        "round_trips_per_message": round(round_trips, 1),
        "latency_added_by_round_trips_ms": round(round_trips * NETWORK_ROUND_TRIP_MS, 1),
        "assumptions": {
            "cores_per_machine": cores,
            "database_machine_cores": database_cores,
            "app_machine_runs": list(APP_PARTS),
            "network_round_trip_ms": NETWORK_ROUND_TRIP_MS,
            "round_trips_per_postgres_transaction": ROUND_TRIPS_PER_TRANSACTION,
            "redis_commands_per_script_run": COMMANDS_PER_LOCK_SCRIPT,
        },
    }
