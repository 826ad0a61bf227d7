"""A table's CSV computes that table alone: its own function on its own source's reads, and nothing else.

The CSV export (/console/dashboard.csv) calls `build_table`. Here every
source's read and every table's function of the real SOURCES is watched, and so
is every statement sent to the databases, while each table is built alone from
the scripted set of tests/support/dashboard.py (SQLite and PostgreSQL).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterator, List

import pytest
import sqlalchemy as sa

from bot.dashboard import figures
from bot.dashboard.period import Period
from bot.dashboard.sources import Source, TablePart, Unavailable
from bot.handoff.tracker_events import reset_tracker_events
from tests.support import dashboard as known

PERIOD = Period(*known.RANGE, known.CITY)


class Watch:
    """What ran: sources read (by their first section's id), tables computed, SQL statements sent."""

    def __init__(self) -> None:
        self.reads: List[str] = []
        self.computed: List[str] = []
        self.statements: List[str] = []

    def clear(self) -> None:
        self.reads.clear()
        self.computed.clear()
        self.statements.clear()

    def table(self, part: TablePart[Any]) -> TablePart[Any]:
        def compute(name: str, found: Any) -> Any:
            self.computed.append(name)
            return part.compute(name, found)

        return replace(part, compute=compute)

    def source(self, source: Source[Any]) -> Source[Any]:
        async def read(period: Period) -> Any:
            self.reads.append(source.sections[0].id)
            return await source.read(period)

        sections = tuple(replace(s, tables=tuple(self.table(t) for t in s.tables)) for s in source.sections)
        return replace(source, read=read, sections=sections)

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    watching = Watch()
    monkeypatch.setattr(figures, "SOURCES", tuple(watching.source(source) for source in figures.SOURCES))
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", watching.statement)
    try:
        yield watching
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", watching.statement)


def owner(name: str) -> Source[Any]:
    return next(source for source in figures.SOURCES if source.part(name) is not None)


async def test_each_table_alone_runs_only_its_own_function_and_its_sources_queries(stores: tuple, watch: Watch) -> None:
    await known.write_scripted_data(*stores)
    whole = await figures.build_dashboard(PERIOD)  # opens both databases: what follows reads only
    names = figures.table_names()
    assert sorted(watch.computed) == sorted(names) and len(names) == len(set(names)) == 14
    assert whole.table_names == names

    for name in names:
        watch.clear()
        await owner(name).read(PERIOD)
        its_reads = sorted(watch.statements)
        assert its_reads, name  # every source asks a database

        watch.clear()
        table = await figures.build_table(PERIOD, name)
        assert table == whole.table(name)  # the same figures as on the page
        assert watch.computed == [name]
        assert watch.reads == [owner(name).sections[0].id]
        assert sorted(watch.statements) == its_reads, name  # no other source's query
        reads_events = any("FROM events" in s for s in watch.statements)  # Rasa's store: the conversations' alone
        assert reads_events == (watch.reads == ["conversations"]), name


async def test_an_unknown_table_is_refused_before_anything_is_read(watch: Watch) -> None:
    with pytest.raises(figures.UnknownTable, match="^Choose a table to export: summary, containment, by_day"):
        await figures.build_table(PERIOD, "secrets")
    assert watch.reads == watch.computed == watch.statements == []


async def test_a_table_whose_source_cannot_be_read_says_why(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, watch: Watch
) -> None:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))  # no var/rasa.db: Rasa has stored nothing yet
    for variable in ("DATABASE_URL", "TRACKER_URL"):
        monkeypatch.delenv(variable, raising=False)
    reset_tracker_events()
    try:
        with pytest.raises(Unavailable, match="no conversation has been stored yet"):
            await figures.build_table(PERIOD, "by_day")
    finally:
        reset_tracker_events()
    assert watch.reads == ["conversations"] and watch.computed == []
