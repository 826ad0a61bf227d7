"""CPU time per message, read from /proc: each part of a side's stack, and the database servers.

Throughput says how fast the machine answered; CPU per message says what each
answer costs, whatever else the machine was doing, and is what a capacity
estimate is built on (bench/estimate.py).
"""

from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional

from bench.procfs import cpu_seconds, pids_named, tree_cpu_seconds
from bot.process.procs import ManagedProcess

# The database servers a scale-out setup talks to, by their processes' command names.
DATABASE_SERVERS = {"postgres": ("postgres",), "redis": ("redis-server",)}
LOAD_GENERATOR = "load generator"


def part_of(process_name: str) -> str:
    """The part of the stack a process belongs to: every Rasa server process counts as "rasa"."""
    return "rasa" if process_name.startswith("rasa") else process_name


def cpu_snapshot(processes: Iterable[ManagedProcess], database_servers: bool = False) -> Dict[str, float]:
    """CPU seconds used so far by each part of a stack (its processes' trees), and optionally the databases."""
    roots: Dict[str, List[int]] = {}
    for process in processes:
        if process.popen is not None:
            roots.setdefault(part_of(process.name), []).append(process.popen.pid)
    snapshot = {part: tree_cpu_seconds(pids) for part, pids in roots.items()}
    snapshot[LOAD_GENERATOR] = cpu_seconds(os.getpid())  # this process alone: the stacks are its children
    if database_servers:
        # A server's connections are its children and share its name: each counted once, closed ones included.
        for server, names in DATABASE_SERVERS.items():
            snapshot[server] = sum(cpu_seconds(pid, reaped_children=True) for pid in pids_named(names))
    return snapshot


def add_usage(total: Dict[str, float], before: Dict[str, float], after: Dict[str, float]) -> None:
    """Add the CPU seconds used between two snapshots to `total`, part by part."""
    for part, seconds in after.items():
        total[part] = total.get(part, 0.0) + max(0.0, seconds - before.get(part, seconds))


def ms_per_message(used: Dict[str, float], messages: int) -> Optional[Dict[str, float]]:
    """CPU milliseconds per message, part by part (None without messages)."""
    if messages <= 0:
        return None
    return {part: round(seconds * 1000 / messages, 2) for part, seconds in sorted(used.items())}
