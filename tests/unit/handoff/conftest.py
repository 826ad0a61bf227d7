"""What the console's search and queue tests share: a var folder of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database
from bot.handoff.tracker_events import reset_tracker_events


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh var folder: the assistant's SQLite database and Rasa's tracker store (var/rasa.db) in it."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "TRACKER_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_database()
    reset_tracker_events()
    yield tmp_path
    reset_tracker_events()
    reset_database()
