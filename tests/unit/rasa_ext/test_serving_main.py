"""With several Sanic workers, the main process serves as one of them (bot/rasa_ext/patches/serving_main.py).

A real Sanic server with two workers is started in its own process, as the
Rasa server starts one: the main process and one forked worker share one
listening socket, the main process answers on its own, and stopping it stops
every worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from bot.process.procs import free_port, group_members, wait_group_gone
from bot.settings import PROJECT_ROOT
from tests.support.supervisor import eventually, listeners

SERVER = textwrap.dedent(
    """
    import os, sys
    from sanic import Sanic, response
    from bot.rasa_ext.patches import BY_NAME
    from bot.rasa_ext.patches.registry import apply

    apply(BY_NAME["serving_main"])
    app = Sanic("serving_main_test")

    @app.get("/pid")
    async def pid(request):
        return response.json({"pid": os.getpid()})

    app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=2, access_log=False)
    """
)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, int]]:
    """The server's main process, its port, and the one worker it forked (once both are running)."""
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        eventually(lambda: answering_pid(port) is not None, 30, "the two-worker server answers")
        eventually(lambda: len(group_members(server.pid)) == 2, 10, "the main process and one forked worker")
        (worker,) = set(group_members(server.pid)) - {server.pid}
        yield server, port, worker
    finally:
        with contextlib.suppress(ProcessLookupError):  # stopped by the test already
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def answering_pid(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pid", timeout=2) as answer:
            return int(json.loads(answer.read())["pid"])
    except OSError:
        return None


def test_the_main_process_forks_one_worker_and_both_share_one_listening_socket(two_workers) -> None:
    server, port, worker = two_workers
    eventually(lambda: listeners(port) == [{server.pid, worker}], 10, "one socket, held by both processes")


def test_the_main_process_answers_by_itself_when_its_worker_is_gone(two_workers) -> None:
    server, port, worker = two_workers
    os.kill(worker, signal.SIGKILL)
    eventually(lambda: group_members(server.pid) == [server.pid], 10, "the worker gone")
    assert {answering_pid(port) for _ in range(5)} == {server.pid}


def test_sigterm_to_the_main_process_stops_every_worker(two_workers) -> None:
    server, _, _ = two_workers
    server.send_signal(signal.SIGTERM)
    assert wait_group_gone(server.pid, server, 20)
    assert server.returncode == 0
