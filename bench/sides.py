"""One side (ours or stock) of the comparison: its stack started, timed to a first answer, stopped."""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from bench.cpu import part_of
from bench.databases import create_database, drop_database
from bench.memory import RssSampler
from bench.models import TrainedModel
from bench.paths import CACHE
from bench.progress import say
from bot.process.procs import ManagedProcess, free_port, stop_all
from bot.process.stack import StackConfig, default_workers
from bot.process.stack_processes import stack_processes
from bot.rasa_ext.api_tokens import RASA_API_TOKEN
from bot.settings import settings

READY_TIMEOUT_S = 900.0


@dataclass
class Side:
    """One configuration (ours or stock) and the stack running it."""

    name: str
    model: TrainedModel
    processes: List[ManagedProcess] = field(default_factory=list)
    rest_urls: List[str] = field(default_factory=list)
    var_dir: Optional[Path] = None
    database_url: Optional[str] = None
    cold_start_s: Optional[float] = None
    sampler: Optional[RssSampler] = None
    filed: List[str] = field(default_factory=list)  # request numbers filed so far (for status lookups)
    street_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    results: Dict[str, Any] = field(default_factory=dict)

    def rasa_pids(self) -> List[int]:
        return [p.popen.pid for p in self.processes if part_of(p.name) == "rasa" and p.popen is not None]


def first_answer(url: str, process: ManagedProcess, timeout: float) -> None:
    """Poll the REST channel until the bot answers (or the process dies)."""
    import httpx

    deadline = time.monotonic() + timeout
    sender = f"bench-coldstart-{uuid.uuid4().hex[:8]}"
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            response = httpx.post(url, json={"sender": sender, "message": "hello"}, timeout=30)
            if response.status_code == 200 and response.json():
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{process.name} did not answer within {timeout:.0f}s:\n{process.log_tail()}")


def start_side(side: Side, scale_out: bool, rasa_processes: int) -> None:
    """Start the side's stack; time the Rasa server from launch to its first answer."""
    side.var_dir = Path(tempfile.mkdtemp(prefix=f"run-{side.name}-", dir=CACHE))
    # Worker processes as `make run` starts them (stock Rasa's in-memory lock store
    # keeps it to one process unless it scales out).
    kwargs: Dict[str, Any] = {
        "rasa_workers": default_workers("RASA_WORKERS"),
        "action_workers": default_workers("ACTION_WORKERS"),
    }
    if scale_out:
        base = settings().database_url
        side.database_url = create_database(base, f"citybot_bench_{side.name}")
        kwargs.update(
            database_url=side.database_url,
            extra_rasa_ports=[free_port() for _ in range(rasa_processes - 1)],
        )
    config = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=side.var_dir,
        model_path=side.model.path,
        extra_env={"CITYBOT_SECRET_KEY": f"bench-{uuid.uuid4().hex}", "CONSOLE_PORT": str(free_port())},
        # Stock is stock: `rasa run` and Rasa's own SQL tracker store; ours runs as `make run` does.
        tuned=side.name == "ours",
        **kwargs,
    )
    side.processes = stack_processes(config)
    token = config.secret(RASA_API_TOKEN)  # the REST channel is for holders of the API token
    side.rest_urls = [f"http://127.0.0.1:{port}/webhooks/rest/webhook?token={token}" for port in config.rasa_ports()]
    side.sampler = RssSampler(side.rasa_pids)
    rasa_started: Optional[float] = None
    for process in side.processes:
        process.start()
        if process.name == "rasa":
            rasa_started = time.monotonic()
            side.sampler.start()
            first_answer(side.rest_urls[0], process, READY_TIMEOUT_S)
            side.cold_start_s = time.monotonic() - rasa_started
            say(f"{side.name}: Rasa answered {side.cold_start_s:.1f}s after launch")
        else:
            process.wait_ready(READY_TIMEOUT_S)


def stop_side(side: Side) -> None:
    if side.sampler is not None:
        side.sampler.stop()
    stop_all(side.processes)
    if side.database_url:
        with contextlib.suppress(Exception):
            drop_database(settings().database_url, side.database_url)
    if side.var_dir is not None:
        # Keep the processes' logs of the latest run (var/bench/logs/<side>/) for a look afterwards.
        logs = CACHE / "logs" / side.name
        shutil.rmtree(logs, ignore_errors=True)
        with contextlib.suppress(OSError):
            shutil.copytree(side.var_dir / "logs", logs)
        shutil.rmtree(side.var_dir, ignore_errors=True)
