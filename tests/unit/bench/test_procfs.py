"""The /proc readings the bench builds on: a process tree, its memory and its CPU time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench.memory import RssSampler, process_tree_rss_by_process_mb
from bench.procfs import cpu_seconds, pids_named, process_tree, pss_mb, rss_mb, tree_cpu_seconds

# 200 MB written, then a fork: the child shares those pages with its parent until either writes them.
FORKED = """
import os, sys, time
block = bytearray(200 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
time.sleep(60)
"""
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


def test_pages_shared_since_a_fork_count_once_in_pss_and_in_each_process_in_rss() -> None:
    parent = subprocess.Popen([sys.executable, "-c", FORKED], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        pids = [parent.pid, child]
        assert all(rss_mb(pid) > 200 for pid in pids)
        assert all(0 < pss_mb(pid) <= rss_mb(pid) for pid in pids)
        # The 200 MB count twice in the RSS total, once in the PSS total.
        assert sum(map(rss_mb, pids)) - sum(map(pss_mb, pids)) > 180
        sampler = RssSampler(lambda: [parent.pid])
        sampler.start()
        time.sleep(1.2)
        sampler.stop()
        assert sampler.peak_mb - sampler.peak_pss_mb > 180
        assert sampler.peak_pss_mb > 200
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()
    assert pss_mb(parent.pid) == 0.0  # gone: nothing, no error
