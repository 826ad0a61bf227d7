"""The written capacity estimate, from a scale-out run's CPU per message and round trips."""

from __future__ import annotations

from bench.estimate import capacity_estimate


def scale_out_rows(msgs_per_s: float) -> dict:
    cpu = {"rasa": 6.0, "actions": 1.0, "worker": 0.5, "console": 0.5, "open311": 1.0, "load generator": 0.5}
    cpu.update(postgres=1.5, redis=0.5)
    return {
        "1": {"msgs_per_s": 20.0, "cpu_ms_per_message": None},
        "50": {
            "msgs_per_s": msgs_per_s,
            "cpu_ms_per_message": cpu,
            "round_trips_per_message": {"redis_commands": 4.0, "postgres_transactions": 3.0},
        },
    }


def test_the_estimate_scales_application_machines_up_to_the_database_pairs_limit() -> None:
    # 11.5 ms of CPU a message in all, on 2 cores: at most 173.9 msg/s; 139.1 is 80% of that.
    estimate = capacity_estimate(scale_out_rows(139.13), [1, 50], cores=2)
    assert estimate is not None
    assert estimate["measured_at_conversations"] == 50
    assert estimate["app_cpu_ms_per_message"] == 8.0
    assert estimate["cpu_efficiency_of_the_run"] == 0.8
    assert estimate["msgs_per_s_per_app_machine"] == 200.0  # 0.8 * 2 cores * 1000 / 8 ms
    # PostgreSQL and Redis on 2 cores: 2000 / 2 ms = 1000 msg/s; Redis alone on its core: 2000.
    assert estimate["database_pair_limit_msgs_per_s"] == 1000.0
    assert estimate["msgs_per_s_by_app_machines"] == {"1": 200.0, "2": 400.0, "4": 800.0, "8": 1000.0, "16": 1000.0}
    assert estimate["round_trips_per_message"] == 10.0  # 4 commands + 2 per transaction
    assert estimate["latency_added_by_round_trips_ms"] == 5.0


def test_a_redis_script_is_one_round_trip_whatever_it_runs_inside_redis() -> None:
    rows = scale_out_rows(139.13)
    # Two lock scripts a message, each running two commands inside Redis: six commands, two requests.
    rows["50"]["round_trips_per_message"] = {
        "redis_commands": 6.0,
        "redis_script_runs": 2.0,
        "postgres_transactions": 3.0,
    }
    estimate = capacity_estimate(rows, [1, 50], cores=2)
    assert estimate is not None
    assert estimate["redis_requests_per_message"] == 2.0
    assert estimate["round_trips_per_message"] == 8.0  # 2 requests + 2 per transaction


def test_no_estimate_without_cpu_figures() -> None:
    assert capacity_estimate({"50": {"msgs_per_s": 100.0}}, [50], cores=2) is None
