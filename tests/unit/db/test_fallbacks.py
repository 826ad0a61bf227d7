"""The phone each Messenger or Instagram conversation gave for its report updates (bot/db/fallbacks.py)."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.db.engine import reset_database
from bot.db.fallbacks import SMS, Fallback, fallback_for, remember_fallback


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


async def test_one_phone_per_conversation_the_latest_given():
    assert await fallback_for("messenger-a") is None
    await remember_fallback("messenger-a", Fallback(SMS, "+15550102233"))
    await remember_fallback("instagram-b", Fallback(SMS, "+15550104444"))
    assert await fallback_for("messenger-a") == Fallback(SMS, "+15550102233")
    await remember_fallback("messenger-a", Fallback(SMS, "+15550109999"))
    assert await fallback_for("messenger-a") == Fallback(SMS, "+15550109999")
    assert await fallback_for("instagram-b") == Fallback(SMS, "+15550104444")
