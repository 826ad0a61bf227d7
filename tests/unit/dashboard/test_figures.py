"""Every figure of the dashboard against a scripted set of conversations whose figures are known.

The set (tests/support/dashboard.py) is written by Rasa's own SQLTrackerStore,
one conversation anonymised by the retention job's own code, with handoffs,
audit lines, reports and status updates in the assistant's database; the
dashboard reads it back as the console does, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Tuple

import pytest
import sqlalchemy as sa

from bot.dashboard.figures import Dashboard, build_dashboard
from bot.dashboard.period import Period
from bot.dashboard.tables import Cell, Table
from bot.db.engine import create_engine, reset_database
from bot.handoff.tracker_events import events, reset_tracker_events
from tests.support import dashboard as known


async def scripted(stores: tuple) -> Dashboard:
    ids = await known.write_scripted_data(*stores)
    engine = create_engine(stores[0])
    with engine.connect() as connection:
        stored = set(connection.execute(sa.select(events.c.sender_id).distinct()).scalars())
        g_texts = connection.execute(sa.select(events.c.data).where(events.c.sender_id == ids["G"])).scalars().all()
    engine.dispose()
    assert ids["G"].startswith("anon:telegram:") and ids["G"] in stored and known.senders()["G"] not in stored
    assert g_texts and not any('"text": "trash"' in text for text in g_texts)  # G counts without its words
    return await build_dashboard(Period(*known.RANGE, known.CITY))


def values(table: Table) -> Tuple[Tuple[Any, ...], ...]:
    return tuple(tuple(v.value if isinstance(v, Cell) else v for v in row) for row in table.rows)


def table(dashboard: Dashboard, name: str) -> Table:
    found = dashboard.table(name)
    assert found is not None, name
    return found


async def test_every_figure_of_the_scripted_conversations(stores: tuple) -> None:
    dashboard = await scripted(stores)
    assert not [s.problem for s in dashboard.sections if s.problem]

    summary = dict(values(table(dashboard, "summary")))
    assert summary == pytest.approx(known.SUMMARY)
    assert values(table(dashboard, "containment")) == known.CONTAINMENT
    assert values(table(dashboard, "by_day")) == known.BY_DAY
    assert values(table(dashboard, "by_channel")) == known.BY_CHANNEL
    assert values(table(dashboard, "by_language")) == known.BY_LANGUAGE
    assert values(table(dashboard, "questions")) == known.QUESTIONS
    assert values(table(dashboard, "unanswered")) == known.UNANSWERED
    assert values(table(dashboard, "jobs")) == known.JOBS
    assert values(table(dashboard, "handoffs")) == known.HANDOFFS
    assert values(table(dashboard, "reports_by_service")) == known.REPORTS_BY_SERVICE
    assert values(table(dashboard, "reports_by_channel")) == known.REPORTS_BY_CHANNEL


async def test_a_narrower_range_counts_only_its_days(stores: tuple) -> None:
    await known.write_scripted_data(*stores)
    one_day = await build_dashboard(Period(date(2026, 3, 3), date(2026, 3, 3), known.CITY))
    assert values(table(one_day, "by_day")) == (known.BY_DAY[1],)
    assert dict(values(table(one_day, "summary")))["Conversations"] == 5
    # H wrote at 22:30 on March 3 in Riverton: March 4 in UTC, still March 3's.
    assert ("WhatsApp", 1, 0, 0, 1) in values(table(one_day, "by_channel"))
    assert [row[0] for row in values(table(one_day, "handoffs"))] == [
        "Asked for a person",
        "Not understood by the assistant",
        "Picked up by staff",
        "All handoffs",
    ]
    assert values(table(one_day, "handoffs"))[-1][:4] == ("All handoffs", 3, 2, 1)  # I's take-over was on March 2


async def test_without_a_tracker_store_the_conversation_figures_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))  # no var/rasa.db: Rasa has stored nothing yet
    for name in ("DATABASE_URL", "TRACKER_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_database()
    reset_tracker_events()
    dashboard = await build_dashboard(Period(*known.RANGE, known.CITY))
    problems = {s.id: s.problem for s in dashboard.sections}
    assert problems["conversations"] == "Conversations cannot be read now: no conversation has been stored yet."
    assert problems["handoffs"] is None and dashboard.table("handoffs") is not None
    assert dashboard.table("by_day") is None
    reset_database()
