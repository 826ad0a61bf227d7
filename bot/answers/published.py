"""The published answers a Rasa process answers with, held in its memory and read again every so often.

Staff publish in the console (bot/answers/store.py); each Rasa process reads the
newest version of every answer from the assistant's database when it starts and
then every ANSWERS_REFRESH_SECONDS (60), in a worker thread: one small query a
minute, never one per message, and nothing on the event loop. A resident's
answer then costs a set lookup when nothing is published for it
(bot/rasa_ext/patches/published_answers.py). A database that cannot be read
keeps the texts read last.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Dict, FrozenSet, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.db.engine import database
from bot.db.schema import answer_versions
from bot.failures import failure_summary
from bot.settings import settings

logger = logging.getLogger(__name__)

MIN_REFRESH_SECONDS = 1.0
Texts = Dict[Tuple[str, str], str]  # (response, language) -> text


def refresh_seconds() -> float:
    """ANSWERS_REFRESH_SECONDS, checked: at least a second (a process must not poll its database in a loop)."""
    seconds = settings().answers_refresh_seconds
    if not seconds >= MIN_REFRESH_SECONDS:
        raise ValueError(f"ANSWERS_REFRESH_SECONDS must be at least {MIN_REFRESH_SECONDS:g}, not {seconds:g}")
    return seconds


def newest_versions() -> sa.sql.Select:
    """The newest version of each answer in each language (its highest id)."""
    newest = (
        sa.select(sa.func.max(answer_versions.c.id).label("id"))
        .group_by(answer_versions.c.response, answer_versions.c.language)
        .subquery()
    )
    return sa.select(answer_versions).join(newest, answer_versions.c.id == newest.c.id)


def read_published(connection: Connection) -> Texts:
    """What residents read instead of the training files' texts: each answer's newest version with a text."""
    rows = connection.execute(newest_versions().where(answer_versions.c.text.is_not(None)))
    return {(row.response, row.language): row.text for row in rows}


class PublishedAnswers:
    """The texts published when this process last looked, and the responses they are for."""

    def __init__(self) -> None:
        self.texts: Texts = {}
        self.responses: FrozenSet[str] = frozenset()  # checked first, for every response a resident gets

    def text_for(self, response: str, language: str) -> Optional[str]:
        return self.texts.get((response, language))

    def replace(self, texts: Texts) -> None:
        self.texts = dict(texts)
        self.responses = frozenset(response for response, _ in texts)

    async def refresh(self) -> bool:
        """Read the published texts again; on failure keep the last ones (False)."""
        try:
            db = await asyncio.to_thread(database)  # opening it may migrate: not on the event loop
            self.replace(await db.run(read_published))
        except Exception as error:
            logger.warning("could not read the published answers: %s", failure_summary(error))
            return False
        return True

    async def keep_fresh(self, seconds: float) -> None:
        """Read them again every `seconds`, for as long as the process runs."""
        while True:
            await asyncio.sleep(seconds)
            await self.refresh()


PUBLISHED = PublishedAnswers()  # this process's
