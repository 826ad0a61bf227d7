"""The survey's answers in the assistant's database (table `survey_answers`).

A row has the score, the channel, the language and what it was asked about
(`subject`: "request:R-KVJ88H" or "handoff:12"), never who answered. The comment
is the resident's own words: `forget_comments_before` (the retention job) empties
those older than the limit and keeps the score for the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database, utcnow
from bot.db.schema import survey_answers
from bot.handoff.store import aware

MAX_COMMENT_CHARS = 1000
REQUEST = "request"
HANDOFF = "handoff"
NO_CONTACT_CHANNEL = "rest"  # a conversation with no contact row: the REST channel's (bot.channels.identity)


def subject(kind: str, key: object) -> str:
    """What a survey was asked about: "request:R-KVJ88H", "handoff:12"."""
    return f"{kind}:{key}"


@dataclass(frozen=True)
class SurveyAnswer:
    id: int
    score: int
    comment: Optional[str]
    channel: str
    language: str
    subject: str
    answered_at: datetime


async def record_score(score: int, channel: str, language: str, about: str, now: Optional[datetime] = None) -> int:
    """Store a score; returns the answer's id (for its comment)."""

    def insert(connection: Connection) -> int:
        result = connection.execute(
            survey_answers.insert().values(
                score=score, channel=channel, language=language, subject=about, answered_at=now or utcnow()
            )
        )
        return int(result.inserted_primary_key[0])

    return await database().run(insert)


async def add_comment(answer_id: int, comment: str) -> bool:
    """Attach the resident's comment to their answer (cut to MAX_COMMENT_CHARS); False if no such answer."""
    text = comment.strip()[:MAX_COMMENT_CHARS]
    return await database().run(
        lambda c: (
            c.execute(survey_answers.update().where(survey_answers.c.id == answer_id).values(comment=text)).rowcount
            == 1
        )
    )


def read_answers(connection: Connection, start: datetime, end: datetime) -> List[SurveyAnswer]:
    """The answers given in [start, end), oldest first."""
    rows = connection.execute(
        sa.select(survey_answers)
        .where(survey_answers.c.answered_at >= start, survey_answers.c.answered_at < end)
        .order_by(survey_answers.c.answered_at, survey_answers.c.id)
    ).all()
    return [
        SurveyAnswer(
            id=row.id,
            score=row.score,
            comment=row.comment,
            channel=row.channel,
            language=row.language,
            subject=row.subject,
            answered_at=aware(row.answered_at),
        )
        for row in rows
    ]


async def answers_between(start: datetime, end: datetime) -> List[SurveyAnswer]:
    return await database().run(lambda connection: read_answers(connection, start, end))


def forget_comments_before(connection: Connection, limit: datetime) -> int:
    """Empty the comments of answers older than `limit` (the retention job); returns how many."""
    return connection.execute(
        survey_answers.update()
        .where(survey_answers.c.answered_at < limit, survey_answers.c.comment.is_not(None))
        .values(comment=None)
    ).rowcount
