"""Keep the assistant's processes running: restart one that dies, give up when it keeps dying.

`citybot run` hands its processes to a `Supervisor`. The processes start in
order, each ready before the next starts. Then a process that exits is restarted
after a delay that doubles from `RestartPolicy.first_delay` up to `max_delay`:
its whole process group is stopped first (a Sanic server's workers outlive a
killed main process and keep its port), then the supervisor waits for the port
to be free, starts it and waits until it answers again, while it goes on
watching the others. After `max_restarts` restarts within `window` seconds it
gives up, stops everything and `run` answers 1.

Every child runs under bot.process.guard holding the read end of a pipe only
the supervisor can write to: if the supervisor itself is killed, even by
SIGKILL, each guard takes its group down, and nothing is left holding a port.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Deque, List, Optional

from bot.process.procs import ManagedProcess, port_free, stop_all

Say = Callable[[str], None]


@dataclass(frozen=True)
class RestartPolicy:
    """How soon and how often a process that died is started again."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    max_restarts: int = 5  # within `window` seconds; one more death and the supervisor gives up
    window: float = 600.0
    ready_timeout: float = 300.0  # Rasa loads its model for about a minute
    port_timeout: float = 30.0  # for a dead process's port to be free again
    poll_interval: float = 0.5

    def delay(self, restarts: int) -> float:
        """The wait before restart number `restarts` (1, 2, ...) of the window."""
        return min(self.max_delay, self.first_delay * 2 ** max(0, restarts - 1))


class State(Enum):
    RUNNING = "running"  # up and answering
    WAITING = "waiting"  # died; stopped; waiting out the delay before a restart
    STARTING = "starting"  # restarted; not answering yet


@dataclass
class Watched:
    """A process and where its supervision stands."""

    process: ManagedProcess
    state: State = State.RUNNING
    due: float = 0.0  # WAITING: when to restart; STARTING: when to stop waiting for readiness
    restarts: Deque[float] = field(default_factory=collections.deque)  # times of recent restarts


class GaveUp(Exception):
    """A process kept dying (or never became ready)."""


def describe_exit(returncode: Optional[int]) -> str:
    if returncode is None:
        return "did not become ready"
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    """Starts processes, restarts the ones that die, stops them all at the end.

    `run` blocks; `request_stop` (from a signal handler or another thread) ends it.
    """

    def __init__(
        self,
        processes: List[ManagedProcess],
        policy: RestartPolicy = RestartPolicy(),
        say: Say = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watched = [Watched(process) for process in processes]
        self.policy = policy
        self.say = say
        self.clock = clock
        self.stopping = threading.Event()
        self.watch_read = -1  # the children's end of the watch pipe, while `run` runs

    @property
    def processes(self) -> List[ManagedProcess]:
        return [watched.process for watched in self.watched]

    def request_stop(self) -> None:
        self.stopping.set()

    def run(self, on_ready: Optional[Callable[[], None]] = None) -> int:
        """Start everything, supervise until asked to stop (0) or a process keeps dying (1)."""
        self.watch_read, watch_write = os.pipe()  # neither end is inherited but by pass_fds
        try:
            self.start_all()
            if on_ready is not None and not self.stopping.is_set():
                on_ready()
            while not self.stopping.is_set():
                self.check()
                self.stopping.wait(self.policy.poll_interval)
            return 0
        except (RuntimeError, TimeoutError, GaveUp) as error:
            self.say(str(error))
            return 1
        finally:
            self.say("Stopping")
            stop_all(self.processes)
            os.close(watch_write)
            os.close(self.watch_read)

    def start_all(self) -> None:
        """Start in order, each ready before the next (the Rasa server needs the action server)."""
        for watched in self.watched:
            if self.stopping.is_set():
                return
            process = watched.process
            self.say(f"Starting {process.name} (log: {process.log_path})")
            process.start(watch_fd=self.watch_read)
            process.wait_ready(self.policy.ready_timeout, cancel=self.stopping)
            if not self.stopping.is_set():
                self.say(f"{process.name} is ready")

    def check(self) -> None:
        """One look at every process: notice deaths, restart when due, note readiness."""
        now = self.clock()
        for watched in self.watched:
            process = watched.process
            if watched.state is State.WAITING:
                if now >= watched.due:
                    self.restart(watched)
            elif not process.is_running():
                self.died(watched, process.popen.returncode if process.popen else None)
            elif watched.state is State.STARTING:
                if process.probe_ready():
                    watched.state = State.RUNNING
                    self.say(f"{process.name} is ready again")
                elif now >= watched.due:
                    self.died(watched, None)

    def died(self, watched: Watched, returncode: Optional[int]) -> None:
        """Stop what is left of its group and schedule a restart, or give up."""
        process = watched.process
        process.stop()  # the whole group: workers of a killed Sanic server included
        now = self.clock()
        while watched.restarts and now - watched.restarts[0] > self.policy.window:
            watched.restarts.popleft()
        if len(watched.restarts) >= self.policy.max_restarts:
            raise GaveUp(
                f"{process.name} {describe_exit(returncode)}; it was restarted {len(watched.restarts)} times "
                f"in {self.policy.window:.0f}s: giving up (log: {process.log_path})"
            )
        watched.restarts.append(now)
        delay = self.policy.delay(len(watched.restarts))
        self.say(
            f"{process.name} {describe_exit(returncode)}; restarting in {delay:g}s "
            f"(restart {len(watched.restarts)} of {self.policy.max_restarts} allowed in {self.policy.window:.0f}s)"
        )
        watched.state, watched.due = State.WAITING, now + delay

    def restart(self, watched: Watched) -> None:
        process = watched.process
        if process.port is not None and not wait_port_free(process.port, self.policy.port_timeout):
            raise GaveUp(
                f"{process.name}: port {process.port} still in use {self.policy.port_timeout:.0f}s "
                "after the process stopped"
            )
        process.start(watch_fd=self.watch_read)
        watched.state, watched.due = State.STARTING, self.clock() + self.policy.ready_timeout


def wait_port_free(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not port_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True
