"""The two kinds of load: many residents at once for a while, and one long conversation per side."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.residents import Aborted, Talk, Workload, http_client
from bench.scripts import LONG_CYCLE, UNKNOWN_REQUEST_ID
from bench.sides import Side
from bench.stats import Stats


async def run_load(
    side: Side, concurrency: int, seconds: float, max_messages: int, seed: int, spanish_share: float = 0.0
) -> Tuple[Stats, float]:
    """`concurrency` residents talking at once for `seconds` (at most `max_messages` messages).

    `spanish_share` of the conversations are in Spanish.
    """
    stats = Stats()
    workload = Workload(side, seed, spanish_share)
    deadline = time.monotonic() + seconds
    budget = [max_messages]
    async with http_client(concurrency + 10) as client:

        async def resident(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            while time.monotonic() < deadline and budget[0] > 0:
                language = workload.language(rng)
                talk = Talk(client, side.rest_urls, stats, deadline, budget, language, workload.answered_in(language))
                stats.conversations += 1
                try:
                    await workload.pick(rng)(talk, rng)
                    stats.completed_conversations += 1
                except (Aborted, TimeoutError):
                    await asyncio.sleep(0.05)

        started = time.monotonic()
        await asyncio.gather(*(resident(i) for i in range(concurrency)))
        elapsed = time.monotonic() - started
    return stats, elapsed


async def run_long(sides: Sequence[Side], turns: int, seconds: float) -> Dict[str, Dict[str, Any]]:
    """One conversation of `turns` turns per side: a turn at turn 10 against one at turn 200.

    The sides take their turns in lockstep (ours, stock, ours, ...), so a busy
    moment of the machine falls on both alike.
    """
    deadline = time.monotonic() + seconds
    stats = {side.name: Stats() for side in sides}
    per_turn: Dict[str, List[float]] = {side.name: [] for side in sides}
    async with http_client(len(sides)) as client:
        talks = {side.name: Talk(client, side.rest_urls, stats[side.name], deadline, [turns]) for side in sides}
        request_ids = {side.name: side.filed[0] if side.filed else UNKNOWN_REQUEST_ID for side in sides}
        going = {side.name for side in sides}
        for turn in range(turns):
            for side in sides:
                if side.name not in going:
                    continue
                line = LONG_CYCLE[turn % len(LONG_CYCLE)].format(request_id=request_ids[side.name])
                try:
                    await talks[side.name].say(line)
                except (Aborted, TimeoutError):
                    going.discard(side.name)
                    continue
                per_turn[side.name].append(stats[side.name].latencies_ms[-1])

    def window(values: List[float], start: int) -> Optional[float]:
        chosen = values[start : start + len(LONG_CYCLE)]
        return round(statistics.median(chosen), 1) if len(chosen) == len(LONG_CYCLE) else None

    results: Dict[str, Dict[str, Any]] = {}
    for side in sides:
        values = per_turn[side.name]
        turn10, turn200 = window(values, 10), window(values, 200)
        results[side.name] = {
            "turn10_ms": turn10,
            "turn200_ms": turn200,
            "ratio": round(turn200 / turn10, 2) if turn10 and turn200 else None,
            "turns": len(values),
            "errors": stats[side.name].errors,
            "unexpected_replies": stats[side.name].unexpected,
            "every_10th_turn_ms": [round(v, 1) for v in values[::10]],
        }
    return results
