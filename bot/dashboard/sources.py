"""Where the dashboard's figures come from: each source reads once for a date range, and each table is its own function.

A `Source` reads what its tables need (Rasa's events, the handoffs, the
reports, the survey's answers) and lays its tables out in sections; each table
is a `TablePart`, its name and the one function that computes it from what the
source read. The page computes every table of every source; a table's CSV
reads only its own source and runs only its own function
(bot.dashboard.figures.build_table), so the same definition serves both.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Generic, List, Optional, Tuple, TypeVar

from bot.dashboard.period import Period
from bot.dashboard.tables import Section, Table

D = TypeVar("D")  # what a source reads for a date range


class Unavailable(Exception):
    """A source cannot be read now; the message is what the page says instead of its figures."""


@dataclass(frozen=True)
class TablePart(Generic[D]):
    """One table: its name (the CSV link's `?table=`) and the function computing it (given that name)."""

    name: str
    compute: Callable[[str, D], Table]

    def table(self, found: D) -> Table:
        return self.compute(self.name, found)


@dataclass(frozen=True)
class SectionPart(Generic[D]):
    """A part of the page: its heading, an introduction, and its tables in order."""

    id: str
    title: str
    tables: Tuple[TablePart[D], ...]
    intro: Optional[str] = None

    def section(self, found: D) -> Section:
        return Section(self.id, self.title, tuple(part.table(found) for part in self.tables), intro=self.intro)

    def missing(self, problem: str) -> Section:
        """The section without its tables, saying why."""
        return Section(self.id, self.title, problem=problem)


@dataclass(frozen=True)
class Source(Generic[D]):
    """What one source reads for a date range (`read`, which raises Unavailable when it cannot) and its sections."""

    read: Callable[[Period], Awaitable[D]]
    sections: Tuple[SectionPart[D], ...]

    @property
    def table_parts(self) -> Tuple[TablePart[D], ...]:
        return tuple(table for section in self.sections for table in section.tables)

    def part(self, name: str) -> Optional[TablePart[D]]:
        return next((table for table in self.table_parts if table.name == name), None)

    async def computed(self, period: Period) -> List[Section]:
        """Every section of the range; the computing (counting, masking) in a worker thread, off the event loop."""
        try:
            found = await self.read(period)
        except Unavailable as error:
            return [section.missing(str(error)) for section in self.sections]
        return await asyncio.to_thread(lambda: [section.section(found) for section in self.sections])

    async def table(self, name: str, period: Period) -> Table:
        """The one table `name` of the range (Unavailable: the source cannot be read now)."""
        part = self.part(name)
        if part is None:
            raise KeyError(name)
        found = await self.read(period)
        return await asyncio.to_thread(part.table, found)
