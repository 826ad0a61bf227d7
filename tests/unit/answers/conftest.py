"""What the answers tests share: an assistant's database of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database


@pytest.fixture(autouse=True)
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh var folder: the assistant's SQLite database in it."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield tmp_path
    reset_database()
