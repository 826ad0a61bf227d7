"""The dashboard's tables as the page shows them and as CSV, which no spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.dashboard.tables import (
    COUNT,
    DAY,
    HOURS,
    MINUTES,
    PERCENT,
    Cell,
    Column,
    Table,
    cell_text,
    csv_text,
    duration_text,
)


def rows_of(text: str) -> list:
    return list(csv.reader(io.StringIO(text)))


def test_a_cell_that_a_spreadsheet_would_run_gets_an_apostrophe() -> None:
    table = Table(
        "unanswered",
        "Top unanswered messages",
        (Column("Message"), Column("Times", COUNT)),
        (
            ('=HYPERLINK("http://evil.example","x")', 2),
            ("+1 555", 1),
            ("-2+3", 1),
            ("@SUM(A1)", 1),
            ("\tcmd", 1),
            ("plain, with a comma", 1),
        ),
    )
    assert rows_of(csv_text(table)) == [
        ["Message", "Times"],
        ['\'=HYPERLINK("http://evil.example","x")', "2"],
        ["'+1 555", "1"],
        ["'-2+3", "1"],
        ["'@SUM(A1)", "1"],
        ["'\tcmd", "1"],
        ["plain, with a comma", "1"],
    ]


def test_numbers_are_exported_in_the_columns_unit_and_shown_for_people() -> None:
    table = Table(
        "handoffs",
        "Handoffs",
        (Column("Day", DAY), Column("Share", PERCENT), Column("Wait", MINUTES), Column("Close", HOURS)),
        ((date(2026, 3, 2), 100 / 3, 150.0, 72 * 3600.0), (date(2026, 3, 3), None, None, None)),
    )
    assert rows_of(csv_text(table)) == [
        ["Day", "Share (%)", "Wait (minutes)", "Close (hours)"],
        ["2026-03-02", "33.3", "2.5", "72.0"],
        ["2026-03-03", "", "", ""],
    ]
    first = table.rows[0]
    assert [cell_text(c, v) for c, v in zip(table.columns, first, strict=True)] == [
        "Mon 2026-03-02",
        "33.3%",
        "2 min 30 s",
        "3 d 0 h",
    ]
    assert cell_text(Column("Share", PERCENT), None) == "—"


def test_a_list_of_figures_gets_a_unit_column() -> None:
    table = Table(
        "summary",
        "Key figures",
        (Column("Figure"), Column("Value", COUNT)),
        (("Conversations", Cell(10, COUNT)), ("Containment rate", Cell(50.0, PERCENT))),
        figures=True,
    )
    assert rows_of(csv_text(table)) == [
        ["Figure", "Value", "Unit"],
        ["Conversations", "10", ""],
        ["Containment rate", "50.0", "%"],
    ]
    assert cell_text(table.columns[1], table.rows[1][1]) == "50%"


def test_durations_as_staff_read_them() -> None:
    assert [duration_text(s) for s in (0, 45, 180, 270, 3600 * 2 + 300, 86400 * 3 + 3600 * 4)] == [
        "0 s",
        "45 s",
        "3 min",
        "4 min 30 s",
        "2 h 05 min",
        "3 d 4 h",
    ]


def test_the_page_shows_the_first_rows_and_the_csv_all() -> None:
    table = Table(
        "questions", "Top", (Column("Q"), Column("N", COUNT)), tuple((f"q{n}", n) for n in range(12)), shown=10
    )
    assert len(table.shown_rows) == 10 and len(rows_of(csv_text(table))) == 13
