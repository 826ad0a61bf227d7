"""The dashboard finds a date range's conversations through the index the tracker store makes at startup.

The scripted set is written by Rasa's own SQLTrackerStore (which indexes
`events` by conversation id only); the project's store then starts on it, as
the Rasa server does, and the statement the dashboard sends for a date range
is explained by the database itself (SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any, Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from bot.dashboard.figures import build_table
from bot.dashboard.period import Period
from bot.rasa_ext.tracker_store import TIME_INDEX, CachedSQLTrackerStore
from tests.support import dashboard as known
from tests.support.tracker_store import tracker_store_settings

PERIOD = Period(*known.RANGE, known.CITY)


@pytest.fixture
def sent() -> Iterator[List[Tuple[str, Any]]]:
    """Every statement (and its parameters) sent to Rasa's events table meanwhile."""
    statements: List[Tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "FROM events" in statement:
            statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def plan(engine: sa.engine.Engine, statement: str, parameters: Any) -> str:
    """How the database runs the statement; PostgreSQL told to use any index it can (its tables here are tiny)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))


async def test_a_date_range_is_read_through_the_time_index(stores: tuple, sent: List[Tuple[str, Any]]) -> None:
    tracker_url = stores[0]
    await known.write_scripted_data(*stores)
    started = CachedSQLTrackerStore(**tracker_store_settings(tracker_url))  # the Rasa server starting on it
    started.engine.dispose()
    sent.clear()  # what writing the set read

    by_day = await build_table(PERIOD, "by_day")
    assert [row[1:] for row in by_day.rows] == [row[1:] for row in known.BY_DAY]
    (statement, parameters), *others = sent
    assert not others  # one reading of the events for the whole range

    engine = sa.create_engine(tracker_url)
    try:
        explained = plan(engine, statement, parameters)
        if engine.dialect.name == "sqlite":
            assert f"SEARCH events USING INDEX {TIME_INDEX} (type_name=? AND timestamp>? AND timestamp<?)" in explained
            assert not [line for line in explained.splitlines() if line.startswith("SCAN events")], explained
        else:
            assert TIME_INDEX in explained, explained
        with engine.begin() as connection:  # without it (as Rasa alone leaves the store): every event is read
            connection.execute(sa.text(f"DROP INDEX {TIME_INDEX}"))
        assert TIME_INDEX not in plan(engine, statement, parameters)
    finally:
        engine.dispose()
