"""Versions of the answers staff edit: published, restored, refused, conflicting, each audited.

Each test has its own SQLite database; the answers are the project's own
(data/nlu/faq.yml, domain.yml), so the facts checks are the real ones.
"""

from __future__ import annotations

from typing import List, Tuple

import pytest
import sqlalchemy as sa

from bot.answers import facts, store
from bot.answers.editable import EditableAnswer, find_answer
from bot.answers.published import read_published
from bot.answers.store import ORIGINAL, AnswerError
from bot.db.engine import database
from bot.db.schema import audit_log

TRASH = "utter_faq/trash_day"
NEW_TRASH = (
    "Trash day by zone: North zone Monday, East zone Tuesday, South zone Wednesday, West zone Thursday. "
    "Bins go at the curb by 6:00 AM. Find your zone at riverton.gov/trash."
)
NEWER_TRASH = NEW_TRASH + " Thank you!"


@pytest.fixture
def trash() -> EditableAnswer:
    answer = find_answer("faq.trash_day")
    assert answer is not None and answer.response == TRASH
    return answer


@pytest.fixture
def greeting() -> EditableAnswer:
    answer = find_answer("greet")
    assert answer is not None
    return answer


def audit_lines() -> List[Tuple[str, str, str]]:
    with database().engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    return [(row.actor, row.action, row.detail) for row in rows]


def published() -> dict:
    with database().engine.connect() as connection:
        return read_published(connection)


async def test_a_published_text_is_what_residents_read_and_is_audited(trash: EditableAnswer) -> None:
    version = await store.publish(trash, "en", f"  {NEW_TRASH}\r\n", "sue", seen=0)
    assert version is not None and (version.number, version.text, version.author) == (1, NEW_TRASH, "sue")
    assert published() == {(TRASH, "en"): NEW_TRASH}
    (newest,) = await store.history(TRASH, "en")
    assert newest == version
    assert await store.history(TRASH, "es") == []  # each language has its own versions
    assert audit_lines() == [("sue", "answer_publish", "utter_faq/trash_day [en] version 1")]


async def test_the_history_keeps_every_version_and_restoring_adds_one(trash: EditableAnswer) -> None:
    await store.publish(trash, "en", NEW_TRASH, "sue", seen=0)
    await store.publish(trash, "en", NEWER_TRASH, "tom", seen=1)
    restored = await store.restore(trash, "en", 1, "sue", seen=2)
    assert restored is not None and (restored.number, restored.text, restored.restores) == (3, NEW_TRASH, 1)
    assert published() == {(TRASH, "en"): NEW_TRASH}

    original = await store.restore(trash, "en", ORIGINAL, "tom", seen=3)
    assert original is not None and original.text is None  # the training files' own: nothing overrides it
    assert published() == {}
    history = await store.history(TRASH, "en")
    assert [(v.number, v.author, v.text, v.restores) for v in history] == [
        (4, "tom", None, ORIGINAL),
        (3, "sue", NEW_TRASH, 1),
        (2, "tom", NEWER_TRASH, None),
        (1, "sue", NEW_TRASH, None),
    ]
    assert [line[1:] for line in audit_lines()] == [
        ("answer_publish", "utter_faq/trash_day [en] version 1"),
        ("answer_publish", "utter_faq/trash_day [en] version 2"),
        ("answer_restore", "utter_faq/trash_day [en] version 3: back to version 1"),
        ("answer_restore", "utter_faq/trash_day [en] version 4: the original"),
    ]
    newest = await store.newest()
    assert newest[(TRASH, "en")].number == 4 and (TRASH, "es") not in newest


async def test_publishing_what_residents_read_already_changes_nothing(trash: EditableAnswer) -> None:
    assert await store.publish(trash, "en", trash.original("en"), "sue", seen=0) is None
    await store.publish(trash, "en", NEW_TRASH, "sue", seen=0)
    assert await store.publish(trash, "en", NEW_TRASH + "\n", "sue", seen=1) is None
    assert await store.restore(trash, "en", 1, "sue", seen=1) is None
    back = await store.publish(trash, "en", trash.original("en"), "sue", seen=1)  # the original's very text
    assert back is not None and back.text is None and published() == {}
    assert len(audit_lines()) == 2


async def test_a_text_that_drops_a_fact_is_refused_with_what_it_lacks(trash: EditableAnswer) -> None:
    with pytest.raises(AnswerError) as refused:
        await store.publish(trash, "en", NEW_TRASH.replace(" Find your zone at riverton.gov/trash.", ""), "sue", 0)
    assert refused.value.status == 400
    assert refused.value.reasons == [
        "It no longer states what the city file says of this topic: “riverton.gov/trash”."
        " Every FAQ answer must state its topic's facts."
    ]
    spanish = trash.original("es").replace("6:00 a. m.", "las seis")
    with pytest.raises(AnswerError, match="“6:00 a. m.”"):
        await store.publish(trash, "es", spanish, "sue", 0)
    assert published() == {} and audit_lines() == []


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "The answer is empty."),
        ("   \r\n ", "The answer is empty."),
        (NEW_TRASH + " " + "x" * 600, "characters; at most 600"),
        (NEW_TRASH + " **Thanks**", "markdown"),
        (NEW_TRASH + " \x07", "control characters"),
        (NEW_TRASH + " Hi {name}!", "{name} is not a slot of the assistant"),
        (NEW_TRASH + " A brace { alone", "Curly braces only mark a slot's value"),
        (NEW_TRASH + " In {language}, braces are {{doubled}}", "Curly braces only mark a slot's value"),
    ],
)
async def test_bad_text_is_refused_with_why(trash: EditableAnswer, text: str, reason: str) -> None:
    with pytest.raises(AnswerError) as refused:
        await store.publish(trash, "en", text, "sue", 0)
    assert refused.value.status == 400 and reason in str(refused.value)
    assert published() == {}


async def test_a_slot_may_be_filled_in(greeting: EditableAnswer) -> None:
    text = "Hello! You are writing in {language}."
    version = await store.publish(greeting, "en", text, "sue", 0)
    assert version is not None and published() == {("utter_greet", "en"): text}


async def test_a_change_from_an_older_page_is_refused(trash: EditableAnswer) -> None:
    await store.publish(trash, "en", NEW_TRASH, "sue", seen=0)
    with pytest.raises(AnswerError, match="sue changed this answer while you were editing") as stale:
        await store.publish(trash, "en", NEWER_TRASH, "tom", seen=0)
    assert stale.value.status == 409
    with pytest.raises(AnswerError) as restore_stale:
        await store.restore(trash, "en", ORIGINAL, "tom", seen=0)
    assert restore_stale.value.status == 409
    assert published() == {(TRASH, "en"): NEW_TRASH} and len(audit_lines()) == 1


async def test_unknown_versions_and_languages_are_refused(trash: EditableAnswer) -> None:
    with pytest.raises(AnswerError) as missing:
        await store.restore(trash, "en", 7, "sue", seen=0)
    assert missing.value.status == 404
    with pytest.raises(AnswerError) as no_language:
        await store.publish(trash, "fr", NEW_TRASH, "sue", seen=0)
    assert no_language.value.status == 404


async def test_an_earlier_text_is_held_to_todays_facts(trash: EditableAnswer, monkeypatch: pytest.MonkeyPatch) -> None:
    await store.publish(trash, "en", NEW_TRASH, "sue", seen=0)
    await store.publish(trash, "en", NEWER_TRASH, "sue", seen=1)
    # the city's facts change: the zone lookup moves
    monkeypatch.setitem(facts.MUST_CONTAIN, "trash_day", ["riverton.gov/zones"])
    with pytest.raises(AnswerError, match="riverton.gov/zones"):
        await store.restore(trash, "en", 1, "sue", seen=2)
    assert await store.restore(trash, "en", ORIGINAL, "sue", seen=2) is not None  # as trained: always allowed
