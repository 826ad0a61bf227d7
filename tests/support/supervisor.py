"""Running processes under a real `Supervisor` in a test, and looking at what is left of them."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, List, Set

from bot.process.procs import ManagedProcess
from bot.process.supervisor import RestartPolicy, Supervisor

FAST = RestartPolicy(
    first_delay=0.2, max_delay=1.0, max_restarts=3, window=600.0, ready_timeout=60.0, poll_interval=0.2
)


def eventually(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.1)


def server_pid(process: ManagedProcess) -> int:
    """The server's main process: the only child of its guard."""
    guard = process.popen.pid
    children = Path(f"/proc/{guard}/task/{guard}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def listeners(port: int) -> List[Set[int]]:
    """One set of process ids per listening socket on the port (`ss`)."""
    lines = subprocess.run(
        ["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [{int(pid) for pid in re.findall(r"pid=(\d+)", line)} for line in lines]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Running:
    """A supervisor run in a thread, its output and its result."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.said: List[str] = []
        self.ready = threading.Event()
        self.result: List[int] = []
        supervisor.say = self.said.append
        self.thread = threading.Thread(target=self.main, daemon=True)

    def main(self) -> None:
        self.result.append(self.supervisor.run(on_ready=self.ready.set))

    def lines(self, pattern: str) -> List[str]:
        return [line for line in self.said if re.search(pattern, line)]


@contextlib.contextmanager
def supervised(processes: List[ManagedProcess], policy: RestartPolicy = FAST) -> Iterator[Running]:
    running = Running(Supervisor(processes, policy=policy))
    running.thread.start()
    try:
        assert running.ready.wait(90), running.said
        yield running
    finally:
        running.supervisor.request_stop()
        running.thread.join(60)
