"""`make bench`: speed and scale of the running assistant, against stock Rasa.

Starts the real stack (reference Open311 server, action server, Rasa server,
worker) twice: once as `make run` does, with our model, and once as stock Rasa
would run the same project: a model trained on the same data with the
configuration `rasa init` writes (`bench/config_stock.yml`), served by plain
`rasa run` with Rasa's own stores (`bench/endpoints_stock.yml`). Both get the
same load in the same run, level by level in turn, so the ratio holds on a
noisy machine:

- realistic mixed conversations over the REST channel (city questions, complete
  service requests through the form and the action server, status lookups,
  out-of-scope lines), a share of them in Spanish (`--spanish`, 0.3), at 1, 10
  and 50 conversations in flight; each simulated resident waits for the answer
  before sending the next message; stock Rasa, which has no language access,
  answers its Spanish residents in English and is checked against that;
- one long conversation: the cost of a turn at turn 10 and at turn 200;
- the Rasa server's peak RSS, cold start (launch to first answer) and the
  `rasa train` time of each configuration.

Models are cached under var/bench/ by a fingerprint of the configuration,
domain and data (and the Rasa version), with their measured training time; a
change to any of them trains again. Writes reports/bench.json and
reports/bench.png (latency and throughput against concurrency).

With DATABASE_URL (PostgreSQL) and REDIS_URL set, both sides then run again on
the scale-out setup: Rasa's SQL tracker store on a fresh PostgreSQL database per
side, the Redis lock store, several Rasa and action-server worker processes; the
same report holds it under `scale_out`, with a capacity estimate for N
application machines (bench/estimate.py). `--scale-out` runs that setup alone
(reports/bench-scale-out.{json,png}).

Each level's figures include the latencies by the residents' language, the CPU
time per message of each part of the stack (/proc), and on the scale-out setup
the round trips per message to PostgreSQL and Redis.

`errors` counts failed requests (HTTP errors, timeouts, refused connections);
`unexpected_replies` counts answers that did not follow the script (a
misunderstood address, an empty answer), after which that conversation stops.

Every request goes to 127.0.0.1; every loop is bounded in time and count.
This is a measurement, not a test: nothing in `make test` asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from bench.backends import add_round_trips, round_trips_snapshot
from bench.chart import chart
from bench.cpu import add_usage, cpu_snapshot, ms_per_message
from bench.estimate import capacity_estimate
from bench.load import run_load, run_long
from bench.models import TrainedModel, ensure_model, training_fingerprint
from bench.paths import CONFIG_OURS, CONFIG_STOCK, REPORTS
from bench.progress import say
from bench.report import print_summary, quality, ratios
from bench.sides import Side, start_side, stop_side
from bench.stats import Stats, merge, summarize
from bot.process.procs import PROJECT_ROOT
from bot.process.stack import default_workers
from bot.settings import reload_settings, settings

LEVELS = (1, 10, 50)
DEFAULT, SCALE_OUT = "default", "scale-out"


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent conversations, e.g. 1,10,50")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each load level and side")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level, the sides taking turns")
    parser.add_argument("--max-messages", type=int, default=20000, help="messages at most per level")
    parser.add_argument("--long-turns", type=int, default=210, help="turns of the long conversation (0: skip)")
    parser.add_argument("--long-seconds", type=float, default=600.0, help="time limit of the long conversation")
    parser.add_argument("--sides", default="ours,stock", help="ours, stock or both")
    parser.add_argument("--ours-model", type=Path, help="use this model for ours instead of the cached one")
    parser.add_argument("--stock-model", type=Path, help="use this model for stock instead of the cached one")
    parser.add_argument("--no-train", action="store_true", help="fail instead of training a missing model")
    parser.add_argument("--no-eval", action="store_true", help="skip `make eval`'s measurements of each side's model")
    parser.add_argument(
        "--setups",
        help="default, scale-out or both (default: both when DATABASE_URL and REDIS_URL are set, else default)",
    )
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="only the scale-out setup: PostgreSQL (DATABASE_URL) + Redis (REDIS_URL), several worker processes",
    )
    parser.add_argument(
        "--rasa-processes",
        type=int,
        default=1,
        help="scale-out: separate Rasa server processes; a conversation's messages rotate over them",
    )
    parser.add_argument("--out", type=Path, help="JSON report (default reports/bench.json)")
    parser.add_argument("--chart", type=Path, help="PNG chart (default reports/bench.png)")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument(
        "--spanish",
        type=float,
        default=0.3,
        help="share of the conversations in Spanish (0: English only, as before language access)",
    )
    return parser.parse_args(argv)


def chosen_setups(args: argparse.Namespace) -> List[str]:
    """The setups to run: `--setups`, else the default one and, with PostgreSQL and Redis given, scale-out."""
    if args.scale_out:
        return [SCALE_OUT]
    if args.setups:
        return [name.strip() for name in args.setups.split(",") if name.strip()]
    return [DEFAULT, SCALE_OUT] if settings().database_url and settings().redis_url else [DEFAULT]


# What makes a stack scale out: the default setup runs without them, whatever the environment holds.
SCALE_OUT_VARIABLES = ("DATABASE_URL", "REDIS_URL")


@contextlib.contextmanager
def setup_environment(setup: str) -> Iterator[None]:
    """The environment the stacks of a setup start in: the default setup on SQLite and file locks."""
    saved = {name: os.environ.get(name) for name in SCALE_OUT_VARIABLES}
    if setup == DEFAULT:
        for name in SCALE_OUT_VARIABLES:
            os.environ.pop(name, None)
    reload_settings()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
        reload_settings()


def measure_level(
    sides: List[Side], level: int, args: argparse.Namespace, scale_out: bool
) -> Dict[str, Dict[str, Any]]:
    """One load level on every side, in rounds, the sides taking turns so the machine's moods fall on both."""
    rounds = max(1, args.rounds)
    stats = {side.name: Stats() for side in sides}
    elapsed = {side.name: 0.0 for side in sides}
    cpu: Dict[str, Dict[str, float]] = {side.name: {} for side in sides}
    trips: Dict[str, Dict[str, int]] = {side.name: {} for side in sides}
    redis_url = settings().redis_url if scale_out else None
    for round_index in range(rounds):
        order = sides if round_index % 2 == 0 else list(reversed(sides))
        for side in order:
            say(f"{side.name}: {level} concurrent conversation(s), round {round_index + 1}/{rounds}")
            cpu_before = cpu_snapshot(side.processes, database_servers=scale_out)
            trips_before = round_trips_snapshot(side.database_url, redis_url)
            round_stats, round_elapsed = asyncio.run(
                run_load(
                    side,
                    level,
                    args.seconds / rounds,
                    args.max_messages // rounds,
                    seed=args.seed + level * 10 + round_index,
                    spanish_share=args.spanish,
                )
            )
            time.sleep(1)  # the servers' statistics are flushed when they go idle
            add_usage(cpu[side.name], cpu_before, cpu_snapshot(side.processes, database_servers=scale_out))
            add_round_trips(trips[side.name], trips_before, round_trips_snapshot(side.database_url, redis_url))
            merge(stats[side.name], round_stats)
            elapsed[side.name] += round_elapsed
    rows = {}
    for side in sides:
        row = rows[side.name] = summarize(stats[side.name], elapsed[side.name])
        row["cpu_ms_per_message"] = ms_per_message(cpu[side.name], row["messages"])
        if trips[side.name] and row["messages"]:
            row["round_trips_per_message"] = {
                key: round(count / row["messages"], 2) for key, count in sorted(trips[side.name].items())
            }
        say(
            f"{side.name} @{level}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
            f"{row['msgs_per_s']} msg/s, {row['errors']} errors, {row['unexpected_replies']} unexpected"
        )
    return rows


def run_setup(
    setup: str, args: argparse.Namespace, sides_wanted: List[str], models: Dict[str, TrainedModel], levels: List[int]
) -> Dict[str, Any]:
    """Start both sides on one setup, load them level by level, time a long conversation, stop them."""
    scale_out = setup == SCALE_OUT
    sides = [Side(name, models[name]) for name in sides_wanted]
    results: Dict[str, Any] = {name: {} for name in sides_wanted}
    results["long"] = {}
    started = time.monotonic()
    try:
        for side in sides:
            say(f"{side.name}: starting the stack ({setup} setup)")
            start_side(side, scale_out, args.rasa_processes)
        for side in sides:  # warm up: every kind of conversation once, not measured
            asyncio.run(run_load(side, 4, 45.0, 60, seed=args.seed + 7, spanish_share=args.spanish))
        for level in levels:
            for name, row in measure_level(sides, level, args, scale_out).items():
                results[name][str(level)] = row
        if args.long_turns and not scale_out:
            say(f"one conversation of {args.long_turns} turns per side, in lockstep")
            results["long"] = asyncio.run(run_long(sides, args.long_turns, args.long_seconds))
            for name, row in results["long"].items():
                say(f"{name} long: turn 10 {row['turn10_ms']} ms, turn 200 {row['turn200_ms']} ms")
    finally:
        for side in sides:
            if side.sampler is not None:
                side.sampler.stop()
                results[side.name]["rss_mb"] = round(side.sampler.peak_mb, 1)
                results[side.name]["rss_per_process_mb"] = side.sampler.per_process()
                results[side.name]["pss_mb"] = round(side.sampler.peak_pss_mb, 1)
            results[side.name]["cold_start_s"] = None if side.cold_start_s is None else round(side.cold_start_s, 1)
            results[side.name]["train_s"] = None if side.model.train_s is None else round(side.model.train_s, 1)
            results[side.name]["model_reused"] = side.model.reused
            stop_side(side)
    results["ratios"] = ratios(results, levels)
    results["meta"] = {
        "setup": setup,
        "rasa_workers": {
            "ours": default_workers("RASA_WORKERS"),
            "stock": default_workers("RASA_WORKERS") if scale_out else 1,
        },
        "action_workers": {
            "ours": default_workers("ACTION_WORKERS"),
            "stock": default_workers("ACTION_WORKERS") if scale_out else 1,
        },
        "rasa_processes": args.rasa_processes if scale_out else 1,
        "seconds_per_level": args.seconds,
        "spanish_share": args.spanish,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "bench_seconds": round(time.monotonic() - started, 1),
        "fingerprints": {side.name: side.model.fingerprint[:16] for side in sides},
    }
    if scale_out:
        results["estimate"] = capacity_estimate(results.get("ours") or {}, levels, os.cpu_count() or 1)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    sides_wanted = [s.strip() for s in args.sides.split(",") if s.strip()]
    setups = chosen_setups(args)
    if SCALE_OUT in setups and not (settings().database_url and settings().redis_url):
        print("the scale-out setup needs DATABASE_URL (PostgreSQL) and REDIS_URL", file=sys.stderr)
        return 2
    # The scale-out setup alone keeps its own report; run after the default one, it joins the same report.
    suffix = "-scale-out" if setups == [SCALE_OUT] else ""
    out = args.out or REPORTS / f"bench{suffix}.json"
    chart_path = args.chart or out.with_suffix(".png")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    configs = {"ours": (CONFIG_OURS, args.ours_model), "stock": (CONFIG_STOCK, args.stock_model)}
    models = {name: ensure_model(name, configs[name][0], configs[name][1], not args.no_train) for name in sides_wanted}
    runs = {}
    for setup in setups:
        with setup_environment(setup):
            runs[setup] = run_setup(setup, args, sides_wanted, models, levels)
    results = runs[setups[0]]
    for setup in setups[1:]:
        results[setup.replace("-", "_")] = runs[setup]
    if not args.no_eval:
        results["eval"] = {name: quality(model.path) for name, model in models.items()}
    results["meta"]["current_data_fingerprints"] = {
        name: training_fingerprint(configs[name][0])[:16] for name in sides_wanted
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    present = [name for name in sides_wanted if any(str(level) in results[name] for level in levels)]
    chart(
        results,
        present,
        levels,
        chart_path,
        f"Riverton 311: ours vs stock Rasa 3.6 config ({results['meta']['setup']} setup, {os.cpu_count()} cores)",
    )
    print_summary(results, present, levels)
    for setup in setups[1:]:
        print(f"\n{setup} setup:")
        print_summary(runs[setup], present, levels)
    say(f"wrote {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out} and {chart_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
