"""What the kernel says of a process tree: its members, their resident memory and their CPU time (/proc)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> Optional[List[bytes]]:
    """/proc/<pid>/stat after the command name (which may hold spaces): field 3 onwards."""
    try:
        return (PROC / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def children_by_parent() -> Dict[int, List[int]]:
    """Every running process, by its parent's pid."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields and len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def process_tree(root_pid: int, children: Optional[Dict[int, List[int]]] = None) -> List[int]:
    """A process and all its descendants (a Sanic server's workers)."""
    children = children_by_parent() if children is None else children
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _kib_field_mb(pid: int, file: str, field: str) -> float:
    """A "<field>: <n> kB" line of a /proc/<pid> file, in MB (0 once the process has exited)."""
    try:
        with open(PROC / str(pid) / file) as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (0 once it has exited)."""
    return _kib_field_mb(pid, "status", "VmRSS:")


def pss_mb(pid: int) -> float:
    """A process's proportional share of memory in MB: each page shared with n processes counts 1/n.

    Summed over a server's processes it is the memory they take together; RSS
    counts a page shared since a fork in every process that holds it.
    """
    return _kib_field_mb(pid, "smaps_rollup", "Pss:")


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User plus system CPU time a process has used so far (0 once it has exited).

    `reaped_children` adds the time of its children that have exited (a
    database server's closed connections).
    """
    fields = _stat_fields(pid)
    if not fields or len(fields) < 15:
        return 0.0
    # After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17): indexes 11 to 14 here.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def tree_cpu_seconds(root_pids: Iterable[int]) -> float:
    """CPU time used so far by processes and their descendants."""
    children = children_by_parent()
    return sum(cpu_seconds(pid) for root in root_pids for pid in process_tree(root, children))


def pids_named(names: Iterable[str]) -> List[int]:
    """Running processes whose command name (/proc/<pid>/comm) is one of `names` (database servers)."""
    wanted = set(names)
    found = []
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        try:
            comm = (PROC / entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in wanted:
            found.append(int(entry))
    return found
