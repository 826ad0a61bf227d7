"""The worker's retention loop: a run soon after start, then one a day, and a prompt stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import contacts
from bot.retention.schedule import retention_loop


def contact_count() -> int:
    with database().engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(contacts)).scalar_one()


async def test_the_loop_runs_the_job_then_waits_a_day_and_stops_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    try:
        with database().engine.begin() as connection:
            connection.execute(
                contacts.insert().values(
                    sender_id="sms-" + "1" * 24,
                    channel="sms",
                    address="+1555",
                    updated_at=utcnow() - timedelta(days=91),
                )
            )
        stop = asyncio.Event()
        loop = asyncio.ensure_future(retention_loop(stop, first_after=0.05))
        for _ in range(600):  # up to 30 s
            if not contact_count():
                break
            await asyncio.sleep(0.05)
        assert contact_count() == 0  # the first run forgot the resident not heard from in 91 days
        assert not loop.done()  # and the next is a day away
        stop.set()
        await asyncio.wait_for(loop, timeout=2)
    finally:
        reset_database()


async def test_a_stop_before_the_first_run_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path / "never"))
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(retention_loop(stop), timeout=2)
    assert not (tmp_path / "never").exists()  # no database was even opened
