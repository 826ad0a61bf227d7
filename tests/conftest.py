"""Shared fixtures: a trained model and the whole assistant started for real."""
from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest

from bot.process.procs import PROJECT_ROOT, ManagedProcess, free_port, stop_all, venv_bin
from bot.process.stack import StackConfig
from bot.process.stack_processes import migrate_database, stack_processes
from bot.settings import reload_settings
from tests.fake_cloud import FakeCloud, start_fake_cloud

MODEL_DIR = PROJECT_ROOT / "models"
SHARED = PROJECT_ROOT.parent / "shared"

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """bot.settings rebuilt at each test's start and whenever it changes a variable through monkeypatch.

    A process reads its settings once; a test changing the environment stands
    for a process started with that environment.
    """
    for name in ("setenv", "delenv"):
        def changed(*args: Any, _original: Any = getattr(monkeypatch, name), **kwargs: Any) -> None:
            _original(*args, **kwargs)
            reload_settings()

        monkeypatch.setattr(monkeypatch, name, changed)
    reload_settings()
    yield


def model_is_current(model: Path) -> bool:
    """Whether the model is newer than every training input (as `make train` decides)."""
    if not model.exists():
        return False
    inputs = [PROJECT_ROOT / "config.yml", PROJECT_ROOT / "domain.yml", *(PROJECT_ROOT / "data").rglob("*.yml")]
    return all(path.stat().st_mtime <= model.stat().st_mtime for path in inputs)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained only when the training data is newer than it.

    CITYBOT_TEST_MODEL names an already trained model to use instead (while
    iterating on code that does not touch the training data).
    """
    if os.environ.get("CITYBOT_TEST_MODEL"):
        return Path(os.environ["CITYBOT_TEST_MODEL"])
    model = MODEL_DIR / "citybot.tar.gz"
    if not model_is_current(model):
        subprocess.run(
            [venv_bin("rasa"), "train", "--out", str(MODEL_DIR), "--fixed-model-name", "citybot"],
            cwd=PROJECT_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
    return model


# Credentials the test assistant runs with; the clouds behind them are faked.
TELEGRAM_TOKEN = "123456789:TEST-riverton-token"
TELEGRAM_SECRET = "test-telegram-secret"
TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+15550100311"
# The Rasa HTTP API and the REST channel answer only holders of this token.
RASA_API_TOKEN = "test-rasa-api-token"


@pytest.fixture(scope="session")
def fake_cloud() -> Iterator[FakeCloud]:
    """The Telegram and Twilio APIs, faked at the HTTP boundary for the whole session."""
    cloud = start_fake_cloud()
    yield cloud
    cloud.server.shutdown()


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, fake_cloud: FakeCloud) -> StackConfig:
    """Free ports, a fresh storage folder and test channel credentials for one session's assistant."""
    rasa_port = free_port()
    return StackConfig(
        rasa_port=rasa_port,
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=tmp_path_factory.mktemp("citybot-var"),
        model_path=trained_model,
        extra_env={
            "CITYBOT_SECRET_KEY": "test-secret-key",
            "RASA_API_TOKEN": RASA_API_TOKEN,
            # A quick worker, so background delivery and status updates show up in seconds.
            "OUTBOX_POLL_SECONDS": "0.5",
            "OUTBOX_BASE_BACKOFF_SECONDS": "0.5",
            "OUTBOX_MAX_BACKOFF_SECONDS": "2",
            "STATUS_POLL_SECONDS": "1",
            "PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": fake_cloud.telegram_base_url,
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
            "TWILIO_API_BASE_URL": fake_cloud.base_url,
            "CONSOLE_PORT": str(free_port()),  # the staff console (live handoff)
            # Every console test signs in from 127.0.0.1; the per-client limit has tests of its own.
            "CONSOLE_SIGNIN_ATTEMPTS": "1000",
        },
    )


@dataclass
class RunningStack:
    """A started assistant: its settings (as attributes) and its processes."""

    config: StackConfig
    processes: List[ManagedProcess]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.config, name)

    def restart(self, name: str) -> None:
        """Stop one process (SIGTERM) and start it again on the same storage."""
        process = next(p for p in self.processes if p.name == name)
        process.stop()
        process.start()
        process.wait_ready(300)


@contextlib.contextmanager
def running(config: StackConfig) -> Iterator[RunningStack]:
    """Every process of `config`'s stack started one after the other, and stopped afterwards."""
    migrate_database(config)
    processes = stack_processes(config)
    try:
        for process in processes:
            process.start()
            process.wait_ready(300)
        yield RunningStack(config, processes)
    finally:
        stop_all(processes)


@pytest.fixture(scope="session")
def stack(stack_config: StackConfig) -> Iterator[RunningStack]:
    """The Open311 reference server, the action server and the Rasa server, running."""
    with running(stack_config) as started:
        yield started


class Conversation:
    """One resident talking to the assistant over Rasa's REST channel (a trusted caller, with the API token)."""

    def __init__(self, rasa_port: int, sender: Optional[str] = None, token: str = RASA_API_TOKEN) -> None:
        self.url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        self.params = {"token": token}
        self.sender = sender or f"resident-{uuid.uuid4().hex[:10]}"
        self.transcript: List[str] = []

    def say(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """Send a message; return the bot's messages (text and buttons)."""
        body: Dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(self.url, json=body, params=self.params, timeout=60)
        response.raise_for_status()
        messages = response.json()
        self.transcript.append(f"> {text}")
        self.transcript.extend(f"< {m.get('text', '')}" for m in messages)
        return messages

    def text(self, text: str, metadata: Optional[Dict[str, Any]] = None) -> str:
        """Send a message; return the bot's replies joined into one string."""
        return "\n".join(m.get("text", "") for m in self.say(text, metadata))

    def tracker(self) -> Dict[str, Any]:
        base = self.url.split("/webhooks/")[0]
        response = httpx.get(f"{base}/conversations/{self.sender}/tracker", params=self.params, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def conversation(stack: StackConfig) -> Conversation:
    return Conversation(stack.rasa_port)
