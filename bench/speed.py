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

With DATABASE_URL (PostgreSQL) and REDIS_URL set, `--scale-out` runs both sides
on the scale-out setup instead: Rasa's SQL tracker store on a fresh PostgreSQL
database per side, the Redis lock store, several Rasa and action-server worker
processes; it writes reports/bench-scale-out.{json,png}.

`errors` counts failed requests (HTTP errors, timeouts, refused connections);
`unexpected_replies` counts answers that did not follow the script (a
misunderstood address, an empty answer), after which that conversation stops.

Every request goes to 127.0.0.1; every loop is bounded in time and count.
This is a measurement, not a test: nothing in `make test` asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.chart import chart
from bench.load import run_load, run_long
from bench.models import ensure_model, training_fingerprint
from bench.paths import CONFIG_OURS, CONFIG_STOCK, REPORTS
from bench.progress import say
from bench.report import print_summary, quality, ratios
from bench.sides import Side, start_side, stop_side
from bench.stats import Stats, merge, summarize
from bot.process.procs import PROJECT_ROOT
from bot.process.stack import default_workers
from bot.settings import settings

LEVELS = (1, 10, 50)


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
        "--scale-out",
        action="store_true",
        help="PostgreSQL (DATABASE_URL) + Redis (REDIS_URL), several worker processes",
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


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    sides_wanted = [s.strip() for s in args.sides.split(",") if s.strip()]
    if args.scale_out and not (settings().database_url and settings().redis_url):
        print("--scale-out needs DATABASE_URL (PostgreSQL) and REDIS_URL", file=sys.stderr)
        return 2
    suffix = "-scale-out" if args.scale_out else ""
    out = args.out or REPORTS / f"bench{suffix}.json"
    chart_path = args.chart or out.with_suffix(".png")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    configs = {"ours": (CONFIG_OURS, args.ours_model), "stock": (CONFIG_STOCK, args.stock_model)}
    sides = [
        Side(name, ensure_model(name, configs[name][0], configs[name][1], not args.no_train)) for name in sides_wanted
    ]
    results: Dict[str, Any] = {name: {} for name in sides_wanted}
    results["long"] = {}
    started = time.monotonic()
    try:
        for side in sides:
            say(f"{side.name}: starting the stack{' (scale-out)' if args.scale_out else ''}")
            start_side(side, args.scale_out, args.rasa_processes)
        for side in sides:  # warm up: every kind of conversation once, not measured
            asyncio.run(run_load(side, 4, 45.0, 60, seed=args.seed + 7, spanish_share=args.spanish))
        # Each level in rounds, the sides taking turns, so that the machine's busy
        # and quiet moments fall on both sides alike.
        rounds = max(1, args.rounds)
        for level in levels:
            totals = {side.name: (Stats(), [0.0]) for side in sides}
            for round_index in range(rounds):
                order = sides if round_index % 2 == 0 else list(reversed(sides))
                for side in order:
                    say(f"{side.name}: {level} concurrent conversation(s), round {round_index + 1}/{rounds}")
                    stats, elapsed = asyncio.run(
                        run_load(
                            side,
                            level,
                            args.seconds / rounds,
                            args.max_messages // rounds,
                            seed=args.seed + level * 10 + round_index,
                            spanish_share=args.spanish,
                        )
                    )
                    merge(totals[side.name][0], stats)
                    totals[side.name][1][0] += elapsed
                    time.sleep(1)
            for side in sides:
                stats, elapsed = totals[side.name]
                row = results[side.name][str(level)] = summarize(stats, elapsed[0])
                say(
                    f"{side.name} @{level}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                    f"{row['msgs_per_s']} msg/s, {row['errors']} errors, {row['unexpected_replies']} unexpected"
                )
        if args.long_turns:
            say(f"one conversation of {args.long_turns} turns per side, in lockstep")
            results["long"] = asyncio.run(run_long(sides, args.long_turns, args.long_seconds))
            for name, row in results["long"].items():
                say(f"{name} long: turn 10 {row['turn10_ms']} ms, turn 200 {row['turn200_ms']} ms")
    finally:
        for side in sides:
            if side.sampler is not None:
                side.sampler.stop()
                results[side.name]["rss_mb"] = round(side.sampler.peak_mb, 1)
            results[side.name]["cold_start_s"] = None if side.cold_start_s is None else round(side.cold_start_s, 1)
            results[side.name]["train_s"] = None if side.model.train_s is None else round(side.model.train_s, 1)
            results[side.name]["model_reused"] = side.model.reused
            stop_side(side)

    if not args.no_eval:
        results["eval"] = {side.name: quality(side.model.path) for side in sides}
    results["ratios"] = ratios(results, levels)
    results["meta"] = {
        "setup": "scale-out" if args.scale_out else "default",
        "rasa_workers": {
            "ours": default_workers("RASA_WORKERS"),
            "stock": default_workers("RASA_WORKERS") if args.scale_out else 1,
        },
        "action_workers": {
            "ours": default_workers("ACTION_WORKERS"),
            "stock": default_workers("ACTION_WORKERS") if args.scale_out else 1,
        },
        "rasa_processes": args.rasa_processes if args.scale_out else 1,
        "seconds_per_level": args.seconds,
        "spanish_share": args.spanish,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "bench_seconds": round(time.monotonic() - started, 1),
        "fingerprints": {side.name: side.model.fingerprint[:16] for side in sides},
        "current_data_fingerprints": {name: training_fingerprint(configs[name][0])[:16] for name in sides_wanted},
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
    say(f"wrote {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out} and {chart_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
