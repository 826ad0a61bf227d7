"""The /proc readings the bench builds on: a process tree, its memory and its CPU time."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.memory import process_tree_rss_by_process_mb
from bench.procfs import cpu_seconds, pids_named, process_tree, rss_mb, tree_cpu_seconds

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_process_tree_holds_its_children_and_their_cpu_time() -> None:
    child = subprocess.Popen([sys.executable, "-c", BUSY + "\ntime.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while cpu_seconds(child.pid) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.pid in process_tree(os.getpid())
        assert cpu_seconds(child.pid) >= 0.25
        assert tree_cpu_seconds([os.getpid()]) >= cpu_seconds(os.getpid()) + cpu_seconds(child.pid) - 0.02
        assert rss_mb(child.pid) > 1
        assert process_tree_rss_by_process_mb([os.getpid()]).keys() >= {os.getpid(), child.pid}
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(child.pid) == 0.0 and rss_mb(child.pid) == 0.0  # gone: nothing, no error


def test_cpu_time_grows_with_work_and_reaped_children_count_for_their_parent() -> None:
    before = cpu_seconds(os.getpid())
    burn(0.2)
    assert cpu_seconds(os.getpid()) - before >= 0.15
    with_children = cpu_seconds(os.getpid(), reaped_children=True)
    subprocess.run([sys.executable, "-c", BUSY], check=True)
    assert cpu_seconds(os.getpid(), reaped_children=True) - with_children >= 0.25


def test_processes_are_found_by_their_command_name() -> None:
    name = open(f"/proc/{os.getpid()}/comm").read().strip()
    assert os.getpid() in pids_named([name])
    assert pids_named(["no-such-command-here"]) == []
