"""The satisfaction survey's tables for the dashboard: how many scores of each, and the average.

An answer counts on the moment it was given (`survey_answers.answered_at`), in the
date range's city days. Comments are personal data and not shown here; past the
retention limit they are gone, the scores stay.
"""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence, Tuple

from bot.dashboard import charts
from bot.dashboard.tables import COUNT, PERCENT, Cell, Column, Table, percent_text, share
from bot.handoff import pages
from bot.survey.question import SCORES
from bot.survey.store import SurveyAnswer


def average(scores: Sequence[int]) -> Optional[float]:
    """The mean score to two decimals (None without any)."""
    return round(sum(scores) / len(scores), 2) if scores else None


def summary_table(name: str, answers: Sequence[SurveyAnswer]) -> Table:
    """How many answers, their average, how many with a comment still kept."""
    scores = [answer.score for answer in answers]
    return Table(
        name,
        "Satisfaction survey",
        (Column("Figure"), Column("Value", COUNT)),
        (
            ("Answers", Cell(len(scores), COUNT)),
            ("Average score (1 to 5)", Cell(average(scores), COUNT)),
            ("With a comment", Cell(sum(1 for a in answers if a.comment), COUNT)),
        ),
        figures=True,
    )


def scores_table(name: str, answers: Sequence[SurveyAnswer]) -> Table:
    """The distribution of scores 1-5, each one's count and share."""
    counts = Counter(answer.score for answer in answers)
    distribution: List[Tuple[str, int, Optional[float]]] = [
        (str(score), counts[score], share(counts[score], len(answers))) for score in SCORES
    ]
    return Table(
        name,
        "Scores given",
        (Column("Score"), Column("Answers", COUNT), Column("Share", PERCENT)),
        tuple(distribution),
        chart=charts.bars(
            "Bar chart of how many residents gave each score; the table after it has the figures.",
            [
                (label, n, f"{n} ({percent_text(part)})" if part is not None else str(n))
                for label, n, part in distribution
            ],
        ),
    )


def by_channel_table(name: str, answers: Sequence[SurveyAnswer]) -> Table:
    """Answers and the average score per channel."""
    channels = sorted({answer.channel for answer in answers})
    return Table(
        name,
        "Satisfaction by channel",
        (Column("Channel"), Column("Answers", COUNT), Column("Average score", COUNT)),
        tuple(
            (
                pages.channel_name(channel),
                len(of_channel := [a.score for a in answers if a.channel == channel]),
                average(of_channel),
            )
            for channel in channels
        ),
    )
