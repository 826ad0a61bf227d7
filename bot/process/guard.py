"""Run one command so that its whole process group dies with the supervisor that started it.

`citybot run` starts each process as
`python -m bot.process.guard WATCH_FD PARENT_PID -- ARGV...` in a new process
group (bot.process.procs.ManagedProcess.start). The guard runs ARGV in that same group
and waits. As soon as the supervisor is gone it takes the group down (SIGTERM,
then SIGKILL after a grace period). It learns that the supervisor is gone in
three ways, any one being enough, so a supervisor killed by SIGKILL leaves
nothing behind holding a port:

- WATCH_FD, the read end of a pipe whose write end only the supervisor holds,
  reaches end of file (the kernel closes the write end when the supervisor dies);
- the kernel sends it SIGTERM (PR_SET_PDEATHSIG) when its parent dies;
- its parent is no longer PARENT_PID (it was reparented).

The guard is needed because a death signal on the server alone would not do: a
Sanic server's workers are the server's children and outlive it. When ARGV
exits by itself the guard exits the same way (same code, or same signal), and
the supervisor stops what is left of the group. To stop a guarded process,
signal its group (`kill -TERM -PGID`, as ManagedProcess.stop does): the guard
passes no signal on, so the command gets each stop once.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from typing import List, NoReturn, Optional

from bot.process.procs import group_members

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_SECONDS = 10.0  # for the group to stop on SIGTERM before SIGKILL
POLL_SECONDS = 0.2
# A stop comes as a signal to the whole group (ManagedProcess.stop): the command gets
# it, and the guard waits for the command to end rather than pass the signal on again.
NOTED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Guard:
    """Watches the supervisor and the command, and ends the group when either ends."""

    def __init__(self, watch_fd: int, parent_pid: int) -> None:
        self.watch_fd = watch_fd
        self.parent_pid = parent_pid
        for signum in NOTED_SIGNALS:  # a handler, not SIG_IGN: the command must not inherit "ignored"
            signal.signal(signum, lambda _signum, _frame: None)

    def supervisor_gone(self, timeout: float) -> bool:
        """Wait up to `timeout` for the watch pipe; True once the supervisor has gone away."""
        if os.getppid() != self.parent_pid:
            return True
        readable, _, _ = select.select([self.watch_fd], [], [], timeout)
        return bool(readable) and os.read(self.watch_fd, 1) == b""

    def take_down(self, child: Optional[subprocess.Popen]) -> NoReturn:
        """SIGTERM every process of the group (this one ignores it), then SIGKILL the rest."""
        pgid = os.getpgid(0)
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            if child is not None:
                child.poll()
            if group_members(pgid) == [os.getpid()]:
                sys.exit(0)
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)  # this process included
        sys.exit(1)  # not reached

    def run(self, command: List[str]) -> NoReturn:
        die_with_parent()
        if os.getppid() != self.parent_pid:  # the supervisor died before the line above
            sys.exit(1)
        child = subprocess.Popen(command)  # same group; the watch pipe is not passed on
        while True:
            if child.poll() is not None:
                exit_like(child.returncode)
            if self.supervisor_gone(POLL_SECONDS):
                self.take_down(child)


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux; elsewhere the pipe alone watches)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def exit_like(returncode: int) -> NoReturn:
    """Exit with the command's code, or die of the signal that killed it."""
    if returncode < 0:
        if -returncode not in (signal.SIGKILL, signal.SIGSTOP):  # these two cannot be caught anyway
            signal.signal(-returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -returncode)
        time.sleep(1.0)
        sys.exit(128 - returncode)
    sys.exit(returncode)


def main(argv: List[str]) -> NoReturn:
    if len(argv) < 4 or argv[2] != "--":
        raise SystemExit("usage: python -m bot.process.guard WATCH_FD PARENT_PID -- COMMAND...")
    Guard(int(argv[0]), int(argv[1])).run(argv[3:])


if __name__ == "__main__":
    main(sys.argv[1:])
