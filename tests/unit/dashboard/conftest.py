"""The dashboard's tests: a var folder of their own, on SQLite or on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from bench.databases import create_database, drop_database
from bot.db.engine import reset_database
from bot.handoff.tracker_events import reset_tracker_events

POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """(tracker store URL, assistant database URL), the process-wide readers pointed at them."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TRACKER_URL", raising=False)
    made = None
    if request.param == "sqlite":
        monkeypatch.delenv("DATABASE_URL", raising=False)
        urls = (f"sqlite:///{tmp_path / 'rasa.db'}", f"sqlite:///{tmp_path / 'citybot.db'}")
    else:
        made = create_database(POSTGRES_URL, "citybot_test_dashboard")
        monkeypatch.setenv("DATABASE_URL", made)
        urls = (made, made)
    reset_database()
    reset_tracker_events()
    try:
        yield urls
    finally:
        reset_tracker_events()
        reset_database()
        if made:
            drop_database(POSTGRES_URL, made)
