"""What the jobs tests share: an assistant's database of their own, the city file read afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database
from tests.support.city import forget_city


@pytest.fixture(autouse=True)
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh var folder (the assistant's SQLite database in it) and the city's own jobs file."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "JOBS_FEED_URL", "CITY_FILE"):
        monkeypatch.delenv(name, raising=False)
    forget_city()
    reset_database()
    yield tmp_path
    reset_database()
    forget_city()
