"""Start the assistant's processes and wait until they answer.

`citybot run` and the end-to-end tests both use this, so what the tests start is
exactly what a city runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence
from urllib.parse import urlparse

from bot.settings import PROJECT_ROOT

SETTLE_SECONDS = 1.0  # a process without a readiness URL is ready once it has run this long


def group_members(pgid: int) -> List[int]:
    """Live (not zombie) processes of process group `pgid`, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs."""
    if Path("/proc/self/stat").exists():
        return bool(group_members(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to a process group; nothing when it is already empty."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def wait_group_gone(pgid: int, leader: Optional[subprocess.Popen], timeout: float) -> bool:
    """Reap the leader and wait until no process of the group runs; False after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if leader is not None:
            leader.poll()
        if (leader is None or leader.returncode is not None) and not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing accepts connections on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) != 0


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_bin(name: str) -> str:
    """Path of an executable installed next to the running Python (the project venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass
class ManagedProcess:
    """A child process with a name, a readiness URL and a log file."""

    name: str
    argv: Sequence[str]
    ready_url: Optional[str]  # None: ready once it has run for a moment without exiting
    log_path: Path
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Path = PROJECT_ROOT
    popen: Optional[subprocess.Popen] = None
    started_at: float = field(default=0.0, init=False, repr=False)
    _group_gone: bool = field(default=False, init=False, repr=False)

    @property
    def port(self) -> Optional[int]:
        """The TCP port the process serves (from its readiness URL), or None."""
        return urlparse(self.ready_url).port if self.ready_url else None

    def start(self, watch_fd: Optional[int] = None) -> None:
        """Launch the process in its own process group, output to its log file.

        With `watch_fd` (the read end of a pipe whose write end only a supervisor
        holds) it runs under bot.process.guard, which takes the whole group down
        when the supervisor goes away, however it goes.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = list(self.argv)
        if watch_fd is not None:
            argv = [sys.executable, "-m", "bot.process.guard", str(watch_fd), str(os.getpid()), "--", *argv]
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            argv,
            cwd=str(self.cwd),
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=() if watch_fd is None else (watch_fd,),
        )
        log.close()
        self.started_at = time.monotonic()
        self._group_gone = False

    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def probe_ready(self) -> bool:
        """One look: does `ready_url` answer 2xx (or, without one, has it run a moment)?"""
        if not self.is_running():
            return False
        if self.ready_url is None:
            return time.monotonic() - self.started_at >= SETTLE_SECONDS
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def wait_ready(self, timeout: float, cancel: Optional[threading.Event] = None) -> None:
        """Block until `probe_ready` (or `cancel` is set); raise with the log tail if it exits or never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if self.probe_ready() or (cancel is not None and cancel.is_set()):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left after `grace` seconds.

        The group, not the leader: a Sanic server's workers outlive a killed main
        process and keep serving its port, so they are stopped even when the
        leader is already dead.
        """
        if self.popen is None or self._group_gone:
            return
        pgid = self.popen.pid
        for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if wait_group_gone(pgid, self.popen, 0):
                break
            signal_group(pgid, signum)
            if wait_group_gone(pgid, self.popen, wait):
                break
        self._group_gone = True  # or stuck past SIGKILL (uninterruptible): nothing more to do from here

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def stop_all(processes: List[ManagedProcess]) -> None:
    """Stop processes in reverse start order."""
    for process in reversed(processes):
        process.stop()
