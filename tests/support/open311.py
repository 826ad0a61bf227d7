"""Fixtures for the Open311 tests: the real reference server as a subprocess, and clients for it.

The fixtures are registered for every test by tests/conftest.py.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Iterator, List, Optional, Sequence, Union

import httpx
import pytest

from bot.open311.client import Open311Client
from bot.process.procs import ManagedProcess, free_port

EVAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "open311"
TEST_API_KEY = "test-open311-key"
API_BASE = "/open311/v2"


@dataclass
class RunningServer:
    """A reference server subprocess: where it listens, its database and its log."""

    process: ManagedProcess
    port: int
    db_path: Union[Path, str]  # a SQLite file or a database URL
    api_key: str
    token_mode: bool

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_BASE}"

    def log_text(self) -> str:
        return self.process.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.stop()

    def client(self, format: str = "json", **kwargs: object) -> Open311Client:
        """A client for this server, with its api_key unless overridden."""
        options = {"api_key": self.api_key, "format": format, **kwargs}
        return Open311Client(self.base_url, **options)  # type: ignore[arg-type]


@dataclass
class Open311ServerFactory:
    """Starts reference servers on free ports; stops all of them at the end of the session."""

    workdir: Path
    started: List[RunningServer] = field(default_factory=list)

    def start(
        self,
        db_path: Optional[Union[Path, str]] = None,
        *,
        token_mode: bool = False,
        api_keys: Sequence[str] = (TEST_API_KEY,),
        name: str = "open311",
    ) -> RunningServer:
        """Start `python -m bot.open311` on `db_path` (a fresh file if None) and wait until it answers."""
        index = len(self.started)
        db_path = db_path or self.workdir / f"{name}-{index}" / "requests.db"
        port = free_port()
        argv = [sys.executable, "-m", "bot.open311", "--port", str(port), "--db", str(db_path)]
        if token_mode:
            argv.append("--token-mode")
        process = ManagedProcess(
            name=f"{name}-{index}",
            argv=argv,
            ready_url=f"http://127.0.0.1:{port}{API_BASE}/discovery.json",
            log_path=self.workdir / f"{name}-{index}.log",
            env={"OPEN311_API_KEYS": ",".join(api_keys), "PYTHONUNBUFFERED": "1"},
        )
        process.start()
        server = RunningServer(process, port, db_path, api_keys[0] if api_keys else "", token_mode)
        self.started.append(server)
        try:
            process.wait_ready(timeout=60)
        except Exception:
            process.stop()
            raise
        return server

    def stop_all(self) -> None:
        for server in reversed(self.started):
            server.stop()


@pytest.fixture(scope="session")
def open311_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Open311ServerFactory]:
    """Yields an Open311ServerFactory; `.start(db_path=None, token_mode=False)` -> RunningServer."""
    factory = Open311ServerFactory(tmp_path_factory.mktemp("open311"))
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def open311_server(open311_server_factory: Open311ServerFactory) -> RunningServer:
    """The shared reference server (ids, token hidden), on a fresh database."""
    return open311_server_factory.start(name="open311-shared")


@pytest.fixture(scope="session")
def open311_token_server(open311_server_factory: Open311ServerFactory) -> RunningServer:
    """A reference server in token mode: POST answers a token, tokens/{token} gives the id."""
    return open311_server_factory.start(token_mode=True, name="open311-token")


@pytest.fixture
async def open311_client(open311_server: RunningServer) -> AsyncIterator[Open311Client]:
    """Open311Client (JSON) for the shared server, closed after the test."""
    async with open311_server.client("json") as client:
        yield client


@pytest.fixture
async def open311_xml_client(open311_server: RunningServer) -> AsyncIterator[Open311Client]:
    """Open311Client (XML) for the shared server, closed after the test."""
    async with open311_server.client("xml") as client:
        yield client


@pytest.fixture
async def open311_http(open311_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    """Raw httpx.AsyncClient whose base_url is the shared server's /open311/v2/ (for error cases)."""
    async with httpx.AsyncClient(base_url=open311_server.base_url + "/", timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
def open311_eval_dir() -> Path:
    """/work/shared/eval/open311 (../shared beside the checkout); fails loudly if it is missing."""
    if not EVAL_DIR.is_dir():
        pytest.fail(f"Open311 evaluation samples not found at {EVAL_DIR}")
    return EVAL_DIR
