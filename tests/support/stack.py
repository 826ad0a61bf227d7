"""The whole assistant started for real (a trained model, fake clouds, every process) and its test credentials."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from bot.process.procs import PROJECT_ROOT, ManagedProcess, free_port, stop_all, venv_bin
from bot.process.stack import StackConfig
from bot.process.stack_processes import migrate_database, stack_processes
from tests.support.fake_cloud import FakeCloud, start_fake_cloud

MODEL_DIR = PROJECT_ROOT / "models"
SHARED = PROJECT_ROOT.parent / "shared"


def model_is_current(model: Path) -> bool:
    """Whether the model is newer than every training input (as `make train` decides)."""
    if not model.exists():
        return False
    inputs = [
        PROJECT_ROOT / "config.yml",
        PROJECT_ROOT / "domain.yml",
        *(PROJECT_ROOT / "data").rglob("*.yml"),
        PROJECT_ROOT / "bot" / "rasa_ext" / "negatives.py",  # the out-of-scope importer
        PROJECT_ROOT / "bot" / "rasa_ext" / "nlu.py",  # the NLU components
    ]
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
MESSENGER_APP_SECRET = "test-messenger-app-secret"
MESSENGER_VERIFY_TOKEN = "test-messenger-verify-token"
MESSENGER_PAGE_ACCESS_TOKEN = "TEST-riverton-page-token"
MESSENGER_PAGE_ID = "104938271650213"
# The Rasa HTTP API and the REST channel answer only holders of this token.
RASA_API_TOKEN = "test-rasa-api-token"


@pytest.fixture(scope="session")
def fake_cloud() -> Iterator[FakeCloud]:
    """The Telegram, Twilio and Graph APIs, faked at the HTTP boundary for the whole session."""
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
            # Published answers read again every 2 seconds, so an edit reaches the chat in seconds.
            "ANSWERS_REFRESH_SECONDS": "2",
            "PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": fake_cloud.telegram_base_url,
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
            "TWILIO_API_BASE_URL": fake_cloud.base_url,
            "MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
            "MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY_TOKEN,
            "MESSENGER_PAGE_ACCESS_TOKEN": MESSENGER_PAGE_ACCESS_TOKEN,
            "MESSENGER_PAGE_ID": MESSENGER_PAGE_ID,
            "META_GRAPH_API_BASE_URL": fake_cloud.graph_base_url,
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
