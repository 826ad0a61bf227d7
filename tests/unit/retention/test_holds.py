"""Staff holds: placed and released with a reason and an audit line, from the store and from `citybot retention`.

Each test has its own SQLite databases (CITYBOT_VAR_DIR in a temporary folder);
the command line runs as staff would run it, against the same files.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import audit_log, contacts, retention_holds
from bot.process.procs import PROJECT_ROOT, venv_bin
from bot.retention import holds
from bot.retention.holds import HoldError

CONVERSATION = "sms-" + "1" * 24


@pytest.fixture(autouse=True)
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield tmp_path
    reset_database()


def audit_lines() -> List[Tuple[str, str, str]]:
    with database().engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    return [(row.actor, row.action, row.detail) for row in rows]


def stored_holds() -> List[Tuple[str, str, str]]:
    with database().engine.connect() as connection:
        rows = connection.execute(sa.select(retention_holds)).all()
    return [(row.conversation_id, row.held_by, row.reason) for row in rows]


def remember(sender_id: str, at: datetime) -> None:
    with database().engine.begin() as connection:
        connection.execute(
            contacts.insert().values(sender_id=sender_id, channel="sms", address="+15550100", updated_at=at)
        )


async def test_a_hold_records_who_why_and_when_and_is_audited_without_the_reason() -> None:
    hold = await holds.place_hold(CONVERSATION, "dana", "  legal hold, case 2026-114 (Ana Ruiz)  ", handoff_id=7)
    assert (hold.held_by, hold.reason) == ("dana", "legal hold, case 2026-114 (Ana Ruiz)")
    assert abs((utcnow() - hold.held_at).total_seconds()) < 5
    assert await holds.hold_of(CONVERSATION) == hold
    assert audit_lines() == [("dana", "retention_hold", f"conversation {CONVERSATION}")]

    with pytest.raises(HoldError) as twice:
        await holds.place_hold(CONVERSATION, "omar", "again")
    assert twice.value.status == 409 and "dana" in str(twice.value)

    await holds.release_hold(CONVERSATION, "omar")
    assert await holds.hold_of(CONVERSATION) is None and stored_holds() == []
    assert audit_lines()[-1] == ("omar", "retention_release", f"conversation {CONVERSATION}")
    with pytest.raises(HoldError) as not_held:
        await holds.release_hold(CONVERSATION, "omar")
    assert not_held.value.status == 404


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * (holds.MAX_REASON_CHARS + 1)])
async def test_a_hold_needs_a_reason_of_reasonable_length(reason) -> None:
    with pytest.raises(HoldError) as refused:
        await holds.place_hold(CONVERSATION, "dana", reason)
    assert refused.value.status == 400
    assert stored_holds() == [] and audit_lines() == []


def citybot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_bin("citybot"), "retention", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "USER": "dana"},
        timeout=120,
    )


def test_the_command_line_holds_releases_lists_and_runs(fresh_database: Path) -> None:
    database()  # the schema, as the running assistant has it
    remember(CONVERSATION, utcnow() - timedelta(days=200))
    remember("sms-" + "2" * 24, utcnow())

    unknown = citybot("hold", "sms-typo", "--reason", "legal")
    assert unknown.returncode == 1 and "no conversation sms-typo" in unknown.stderr
    assert citybot("hold", CONVERSATION).returncode == 2  # argparse: --reason is required

    held = citybot("hold", CONVERSATION, "--reason", "legal hold, case 114")
    assert held.returncode == 0, held.stderr
    assert stored_holds() == [(CONVERSATION, "dana", "legal hold, case 114")]
    assert CONVERSATION in citybot("holds").stdout
    dry = citybot("run", "--dry-run")
    assert dry.returncode == 0 and "kept on hold\t1" in dry.stdout and "contacts deleted\t0" in dry.stdout

    released = citybot("release", CONVERSATION, "--by", "omar")
    assert released.returncode == 0, released.stderr
    assert citybot("release", CONVERSATION).returncode == 1  # not on hold any more
    dry = citybot("run", "--dry-run")
    assert "contacts deleted\t1" in dry.stdout and "Dry run, nothing changed" in dry.stdout
    with database().engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(contacts)).scalar_one() == 2
    done = citybot("run")
    assert done.returncode == 0 and "contacts deleted\t1" in done.stdout
    with database().engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(contacts)).scalar_one() == 1
    assert audit_lines() == [
        ("(cli)", "retention_hold", f"conversation {CONVERSATION} by dana"),
        ("(cli)", "retention_release", f"conversation {CONVERSATION} by omar"),
    ]
    assert "legal" not in repr(audit_lines())
