"""A test's own database: a fresh SQLite file, or a fresh PostgreSQL database (127.0.0.1:5432, db `test`).

The fixture `fresh_sqlite` (registered in tests/conftest.py) is the SQLite one in the test's own var folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database

POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def own_database(kind: str, monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    """The process-wide database on a fresh SQLite file (in CITYBOT_VAR_DIR), or a fresh PostgreSQL one `name`."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = None
    if kind == "postgresql":
        from bench.databases import create_database

        url = create_database(POSTGRES_URL, name)
        monkeypatch.setenv("DATABASE_URL", url)
    reset_database()
    try:
        yield
    finally:
        reset_database()
        if url:
            from bench.databases import drop_database

            drop_database(POSTGRES_URL, url)


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The process-wide database on a fresh SQLite file in the test's own var folder (which it yields)."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    with own_database("sqlite", monkeypatch, ""):
        yield tmp_path
