"""The satisfaction survey's figures for the dashboard: how many scores of each, and the average.

An answer counts on the moment it was given (`survey_answers.answered_at`), in the
date range's city days. Comments are personal data and not shown here; past the
retention limit they are gone, the scores stay.
"""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence, Tuple

from bot.dashboard import charts
from bot.dashboard.tables import COUNT, PERCENT, Cell, Column, Section, Table, percent_text, share
from bot.handoff import pages
from bot.survey.question import SCORES
from bot.survey.store import SurveyAnswer


def average(scores: Sequence[int]) -> Optional[float]:
    """The mean score to two decimals (None without any)."""
    return round(sum(scores) / len(scores), 2) if scores else None


def satisfaction_section(answers: Sequence[SurveyAnswer]) -> Section:
    """The distribution of scores 1-5 and the average, overall and per channel."""
    scores = [answer.score for answer in answers]
    counts = Counter(scores)
    distribution: List[Tuple[str, int, Optional[float]]] = [
        (str(score), counts[score], share(counts[score], len(scores))) for score in SCORES
    ]
    channels = sorted({answer.channel for answer in answers})
    per_channel = tuple(
        (
            pages.channel_name(channel),
            len(of_channel := [a.score for a in answers if a.channel == channel]),
            average(of_channel),
        )
        for channel in channels
    )
    return Section(
        "satisfaction",
        "Satisfaction",
        (
            Table(
                "satisfaction_summary",
                "Satisfaction survey",
                (Column("Figure"), Column("Value", COUNT)),
                (
                    ("Answers", Cell(len(scores), COUNT)),
                    ("Average score (1 to 5)", Cell(average(scores), COUNT)),
                    ("With a comment", Cell(sum(1 for a in answers if a.comment), COUNT)),
                ),
                figures=True,
            ),
            Table(
                "satisfaction_scores",
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
            ),
            Table(
                "satisfaction_by_channel",
                "Satisfaction by channel",
                (Column("Channel"), Column("Answers", COUNT), Column("Average score", COUNT)),
                per_channel,
            ),
        ),
        intro='Residents\' answers to "How did we do? 1-5", asked once after a report was filed or a handoff '
        "resolved, counted on the day they answered.",
    )
