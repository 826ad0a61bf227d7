"""The dashboard's tables: what each cell is (a count, a share, a duration), shown on the page and written as CSV.

Every chart on the page is drawn from one of these tables, which the page shows
beside it (the text equivalent for screen readers) and `/console/dashboard.csv`
exports. A CSV cell never starts with = + - @ (or a tab or carriage return): a
spreadsheet would run it as a formula, so such a cell gets a leading
apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional, Sequence, Tuple

from bot.dashboard.charts import Chart

# What a column holds.
TEXT = "text"
DAY = "day"  # a date
COUNT = "count"
PERCENT = "percent"  # 0 to 100; None: nothing to divide
MINUTES = "minutes"  # a duration in seconds, exported in minutes; None: none to measure
HOURS = "hours"  # a duration in seconds, exported in hours
UNITS = {PERCENT: "%", MINUTES: "minutes", HOURS: "hours"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NONE_SHOWN = "—"  # a figure that cannot be computed (nothing to divide, no duration measured)


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT

    @property
    def numeric(self) -> bool:
        return self.kind not in (TEXT, DAY)

    @property
    def csv_title(self) -> str:
        unit = UNITS.get(self.kind)
        return f"{self.title} ({unit})" if unit else self.title


@dataclass(frozen=True)
class Cell:
    """A value of another kind than its column's (a table of figures mixes counts, shares and durations)."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Table:
    name: str  # its name in the CSV link (?table=)
    caption: str
    columns: Tuple[Column, ...]
    rows: Tuple[Tuple[Any, ...], ...]
    shown: Optional[int] = None  # the page shows the first `shown` rows; the CSV has them all
    chart: Optional[Chart] = None
    note: Optional[str] = None
    figures: bool = False  # a list of headline figures (label, value): shown as a list, exported as a table

    @property
    def shown_rows(self) -> Tuple[Tuple[Any, ...], ...]:
        return self.rows if self.shown is None else self.rows[: self.shown]


@dataclass(frozen=True)
class Section:
    """A part of the dashboard: its tables (each with its chart, if any), or why they are missing."""

    id: str
    title: str
    tables: Tuple[Table, ...] = ()
    intro: Optional[str] = None
    problem: Optional[str] = None  # a source could not be read: the page says so instead of wrong figures


def share(part: int, whole: int) -> Optional[float]:
    """`part` of `whole` in percent (None of nothing)."""
    return None if whole == 0 else 100.0 * part / whole


def duration_text(seconds: float) -> str:
    """A duration as staff read it: '45 s', '3 min', '4 min 30 s', '2 h 05 min', '3 d 4 h'."""
    total = int(round(max(0.0, seconds)))
    if total < 60:
        return f"{total} s"
    minutes, rest = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def percent_text(value: float) -> str:
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


def kind_of(column: Column, value: Any) -> Tuple[str, Any]:
    return (value.kind, value.value) if isinstance(value, Cell) else (column.kind, value)


def cell_text(column: Column, value: Any) -> str:
    """A cell as the page shows it."""
    kind, value = kind_of(column, value)
    if value is None:
        return NONE_SHOWN
    if kind == PERCENT:
        return percent_text(value)
    if kind in (MINUTES, HOURS):
        return duration_text(value)
    if kind == DAY and isinstance(value, date):
        return value.strftime("%a %Y-%m-%d")
    return str(value)


def exported(column: Column, value: Any) -> str:
    """A cell as the CSV has it: numbers in the column's unit, safe from spreadsheet formulas."""
    kind, value = kind_of(column, value)
    if value is None:
        text = ""
    elif kind == PERCENT:
        text = f"{value:.1f}"
    elif kind == MINUTES:
        text = f"{value / 60:.1f}"
    elif kind == HOURS:
        text = f"{value / 3600:.1f}"
    elif kind == DAY and isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unit_of(value: Any) -> str:
    """The unit of a figure's value in the CSV of a list of figures."""
    return UNITS.get(value.kind, "") if isinstance(value, Cell) else ""


def csv_text(table: Table) -> str:
    """The whole table as CSV (every row; a list of figures gets a unit column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [column.csv_title for column in table.columns]
    writer.writerow([exported(Column(title), title) for title in header + (["Unit"] if table.figures else [])])
    for row in table.rows:
        cells = [exported(column, value) for column, value in zip(table.columns, row, strict=True)]
        if table.figures:
            cells.append(exported(Column("Unit"), unit_of(row[-1])))
        writer.writerow(cells)
    return out.getvalue()


def every_table(sections: Sequence[Section]) -> Tuple[Table, ...]:
    return tuple(table for section in sections for table in section.tables)
