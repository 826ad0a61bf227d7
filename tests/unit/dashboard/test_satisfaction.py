"""The satisfaction section against known answers, read as the console does (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.dashboard.figures import build_dashboard
from bot.dashboard.period import Period
from bot.dashboard.tables import Cell, csv_text
from bot.survey import store
from tests.support import dashboard as known

# (score, channel, language, when): the first and last are outside March 2-4 in Riverton.
ANSWERS = [
    (1, "sms", "en", datetime(2026, 3, 2, 5, 59, tzinfo=timezone.utc)),  # March 1, 23:59 in Riverton
    (5, "webchat", "en", datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)),
    (4, "sms", "es", datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc)),
    (4, "sms", "en", datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)),
    (2, "telegram", "es", datetime(2026, 3, 5, 5, 0, tzinfo=timezone.utc)),  # March 4, 23:00 in Riverton
    (3, "webchat", "en", datetime(2026, 3, 5, 7, 0, tzinfo=timezone.utc)),  # March 5 in Riverton
]


def values(rows: tuple) -> tuple:
    return tuple(tuple(v.value if isinstance(v, Cell) else v for v in row) for row in rows)


async def test_the_distribution_and_average_of_the_range(stores: tuple) -> None:
    for score, channel, language, when in ANSWERS:
        answer = await store.record_score(score, channel, language, "request:R-ABC123", now=when)
        if score == 5:
            await store.add_comment(answer, "thank you")
    dashboard = await build_dashboard(Period(*known.RANGE, known.CITY))
    summary = dashboard.table("satisfaction_summary")
    scores = dashboard.table("satisfaction_scores")
    by_channel = dashboard.table("satisfaction_by_channel")
    assert summary is not None and scores is not None and by_channel is not None

    assert dict(values(summary.rows)) == {"Answers": 4, "Average score (1 to 5)": 3.75, "With a comment": 1}
    assert values(scores.rows) == (("1", 0, 0.0), ("2", 1, 25.0), ("3", 0, 0.0), ("4", 2, 50.0), ("5", 1, 25.0))
    assert values(by_channel.rows) == (("SMS", 2, 4.0), ("Telegram", 1, 2.0), ("Web chat", 1, 5.0))
    assert scores.chart is not None and "satisfaction_scores" in dashboard.table_names
    assert csv_text(scores).splitlines()[:2] == ["Score,Answers,Share (%)", "1,0,0.0"]


async def test_no_answers_no_average(stores: tuple) -> None:
    dashboard = await build_dashboard(Period(date(2026, 3, 2), date(2026, 3, 2), known.CITY))
    summary = dashboard.table("satisfaction_summary")
    assert summary is not None and dict(values(summary.rows)) == {
        "Answers": 0,
        "Average score (1 to 5)": None,
        "With a comment": 0,
    }
