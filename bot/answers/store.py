"""The versions of the answers staff edit: publish a text, restore an earlier one, read the history.

An answer's versions (per language) are rows of `answer_versions`, oldest
first; the newest is what residents read, within ANSWERS_REFRESH_SECONDS
(bot/answers/published.py). A version without a text is the training files'
own: restoring the original, or publishing its very text, stores one, so the
assistant answers exactly as trained. Nothing is ever deleted: restoring
version 2 adds a version with version 2's text. Every text is checked first
(bot/answers/checks.py: length, markup, braces, the city file's facts); each
change goes in the audit log (the answer, its language and version numbers,
never the text, which the history keeps). A change made from a page showing an
older version than the newest is refused (409), so two staff members editing
at once cannot overwrite each other unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.answers.checks import cleaned, problems
from bot.answers.editable import EditableAnswer
from bot.answers.published import newest_versions
from bot.db.engine import database, utcnow
from bot.db.schema import answer_versions
from bot.handoff import store

PUBLISH, RESTORE = "answer_publish", "answer_restore"  # audit log actions
ORIGINAL = 0  # the number of the training files' own text


class AnswerError(ValueError):
    """A change that cannot be made: why (one or more sentences) and the HTTP status that says so."""

    def __init__(self, reasons: List[str], status: int = 400) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons
        self.status = status


@dataclass(frozen=True)
class AnswerVersion:
    """One version of an answer in one language; `number` counts from 1 per answer and language."""

    id: int
    number: int
    response: str
    language: str
    text: Optional[str]  # None: the training files' own
    author: str
    created_at: datetime
    restores: Optional[int]  # the number of the version it brought back (ORIGINAL: the training files')

    @classmethod
    def from_row(cls, row: Any, number: int) -> "AnswerVersion":
        return cls(
            row.id,
            number,
            row.response,
            row.language,
            row.text,
            row.author,
            store.aware(row.created_at),
            row.restores,
        )


def _of(response: str, language: str) -> Any:
    return sa.and_(answer_versions.c.response == response, answer_versions.c.language == language)


def _versions(connection: Connection, response: str, language: str) -> List[AnswerVersion]:
    rows = connection.execute(sa.select(answer_versions).where(_of(response, language)).order_by(answer_versions.c.id))
    return [AnswerVersion.from_row(row, number) for number, row in enumerate(rows, start=1)]


async def history(response: str, language: str) -> List[AnswerVersion]:
    """Every version of the answer in `language`, newest first."""
    return list(reversed(await database().run(lambda c: _versions(c, response, language))))


async def newest() -> Dict[Tuple[str, str], AnswerVersion]:
    """Each edited answer's newest version, by (response, language), with its number."""

    def read(connection: Connection) -> Dict[Tuple[str, str], AnswerVersion]:
        columns = (answer_versions.c.response, answer_versions.c.language)
        counts = {
            (row.response, row.language): row.count
            for row in connection.execute(sa.select(*columns, sa.func.count().label("count")).group_by(*columns))
        }
        return {
            (row.response, row.language): AnswerVersion.from_row(row, counts[(row.response, row.language)])
            for row in connection.execute(newest_versions())
        }

    return await database().run(read)


def _add(
    connection: Connection,
    answer: EditableAnswer,
    language: str,
    text: Optional[str],
    author: str,
    seen: int,
    restores: Optional[int] = None,
) -> Optional[AnswerVersion]:
    """Add a version after the newest, which must be version `seen` (0: none yet); None when nothing changes."""
    versions = _versions(connection, answer.response, language)
    latest = versions[-1] if versions else None
    if (latest.number if latest else 0) != seen:
        raise AnswerError(
            [
                f"{latest.author if latest else 'Someone'} changed this answer while you were editing"
                f" (it is at version {latest.number if latest else 0} now). Your text is kept below:"
                " read theirs, then publish again."
            ],
            409,
        )
    stored = None if text == answer.original(language) else text
    if (latest.text if latest else None) == stored:
        return None
    version = AnswerVersion(0, len(versions) + 1, answer.response, language, stored, author, utcnow(), restores)
    row = {
        name: getattr(version, name) for name in ("response", "language", "text", "author", "created_at", "restores")
    }
    try:
        with connection.begin_nested():
            inserted = connection.execute(answer_versions.insert().values(**row, replaces=latest.id if latest else 0))
    except sa.exc.IntegrityError:  # published by someone else a moment ago, from the same version
        raise AnswerError(["Someone published this answer a moment ago. Reload the page and try again."], 409) from None
    return replace(version, id=inserted.inserted_primary_key[0])


def checked_language(answer: EditableAnswer, language: str) -> str:
    if answer.original(language) is None:
        raise AnswerError(["This answer has no text in that language."], 404)
    return language


def checked_text(answer: EditableAnswer, language: str, text: Optional[str]) -> str:
    """The text cleaned, or AnswerError with every reason it cannot be published."""
    wanted = cleaned(text)
    reasons = problems(answer.response, language, wanted)
    if reasons:
        raise AnswerError(reasons)
    return wanted


def audit_detail(answer: EditableAnswer, language: str, version: AnswerVersion) -> str:
    """'utter_faq/trash_day [es] version 3', and what a restore brought back."""
    detail = f"{answer.response} [{language}] version {version.number}"
    if version.restores is not None:
        detail += ": the original" if version.restores == ORIGINAL else f": back to version {version.restores}"
    return detail


async def publish(
    answer: EditableAnswer, language: str, text: Optional[str], author: str, seen: int
) -> Optional[AnswerVersion]:
    """Publish a new text, edited from version `seen`; None when it is the text residents read already."""
    checked_language(answer, language)
    wanted = checked_text(answer, language, text)
    version = await database().run(lambda c: _add(c, answer, language, wanted, author, seen))
    if version is not None:
        await store.audit(author, PUBLISH, detail=audit_detail(answer, language, version))
    return version


async def restore(
    answer: EditableAnswer, language: str, number: int, author: str, seen: int
) -> Optional[AnswerVersion]:
    """Bring back version `number` (ORIGINAL: the training files' text) as a new version; None when it is current."""
    checked_language(answer, language)

    def work(connection: Connection) -> Optional[AnswerVersion]:
        versions = _versions(connection, answer.response, language)
        if number == ORIGINAL or 1 <= number <= len(versions) and versions[number - 1].text is None:
            text = answer.original(language)  # as trained, and checked by the tests of the training data
        elif 1 <= number <= len(versions):
            # The city's facts may have changed since: an earlier text is held to today's.
            text = checked_text(answer, language, versions[number - 1].text)
        else:
            raise AnswerError([f"This answer has no version {number}."], 404)
        return _add(connection, answer, language, text, author, seen, number)

    version = await database().run(work)
    if version is not None:
        await store.audit(author, RESTORE, detail=audit_detail(answer, language, version))
    return version
