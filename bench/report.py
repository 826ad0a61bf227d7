"""The report's figures beside the timings: each model's `make eval` quality, ours-over-stock ratios, the summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Sequence

from bench.progress import say


def quality(model: Path) -> Dict[str, Any]:
    """`make eval`'s figures for a side's model, so speed is never bought with understanding."""
    from bench.eval import evaluate

    say(f"measuring {model.name} on the held-out and external sets (make eval)")
    full = asyncio.run(evaluate(model))
    holdout, oos = full["holdout"], full.get("clinc_oos_test", {})
    return {
        "holdout_accuracy": holdout["accuracy"],
        "holdout_macro_f1": holdout["macro_f1"],
        "clinc_oos_taken_in_scope": oos.get("taken_as_request_or_faq"),
        "bloomington_service_accuracy": (full.get("bloomington") or {}).get("service_accuracy"),
        "civic_accuracy": (full.get("civic_nlu") or {}).get("accuracy"),
    }


def ratios(results: Dict[str, Any], levels: Sequence[int]) -> Dict[str, Any]:
    ours, stock = results.get("ours") or {}, results.get("stock") or {}
    out: Dict[str, Any] = {}
    for level in levels:
        a, b = ours.get(str(level)) or {}, stock.get(str(level)) or {}
        if a.get("msgs_per_s") and b.get("msgs_per_s"):
            out[f"throughput_x_at_{level}"] = round(a["msgs_per_s"] / b["msgs_per_s"], 2)
        if a.get("p95_ms") and b.get("p95_ms"):
            out[f"p95_stock_over_ours_at_{level}"] = round(b["p95_ms"] / a["p95_ms"], 2)
    return out


def print_summary(results: Dict[str, Any], sides: Sequence[str], levels: Sequence[int]) -> None:
    print()
    print(f"{'side':<6} {'conc':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'msg/s':>7} {'err':>4} {'unexp':>5}")
    for name in sides:
        for level in levels:
            row = results[name].get(str(level))
            if not row:
                continue
            print(
                f"{name:<6} {level:>4} {row['p50_ms'] or 0:>8.0f} {row['p95_ms'] or 0:>8.0f} "
                f"{row['p99_ms'] or 0:>8.0f} {row['msgs_per_s'] or 0:>7.1f} {row['errors']:>4} "
                f"{row['unexpected_replies']:>5}"
            )
            languages = ", ".join(
                f"{language} p50 {figures['p50_ms']} / p95 {figures['p95_ms']} ms"
                for language, figures in (row.get("by_language") or {}).items()
            )
            cpu = ", ".join(f"{part} {ms}" for part, ms in (row.get("cpu_ms_per_message") or {}).items())
            print(f"{'':<11} {languages}; CPU ms per message: {cpu}")
    for name in sides:
        side = results[name]
        long = results.get("long", {}).get(name) or {}
        print(
            f"{name}: rss {side.get('rss_mb')} MB (per process {side.get('rss_per_process_mb')}), "
            f"pss {side.get('pss_mb')} MB, "
            f"cold start {side.get('cold_start_s')} s, train {side.get('train_s')} s, "
            f"turn 10 {long.get('turn10_ms')} ms, turn 200 {long.get('turn200_ms')} ms"
        )
    for key, value in (results.get("ratios") or {}).items():
        print(f"{key}: {value}")
    estimate = results.get("estimate")
    if estimate:
        print(
            f"estimate: {estimate['msgs_per_s_per_app_machine']} msg/s per application machine, "
            f"database pair limit {estimate['database_pair_limit_msgs_per_s']} msg/s; by machines "
            f"{estimate['msgs_per_s_by_app_machines']}; {estimate['round_trips_per_message']} round trips a message"
        )
    for name, figures in (results.get("eval") or {}).items():
        print(f"{name} eval: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
