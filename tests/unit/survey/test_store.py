"""The survey's answers in the assistant's database (SQLite here; the retention test also runs PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.db.engine import database
from bot.survey import store

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.usefixtures("fresh_sqlite")


async def test_scores_comments_and_the_date_range() -> None:
    first = await store.record_score(5, "webchat", "en", store.subject(store.REQUEST, "R-ABC123"), now=NOW)
    await store.record_score(2, "sms", "es", store.subject(store.HANDOFF, 7), now=NOW + timedelta(days=1))
    assert await store.add_comment(first, "  quick and kind  ")
    assert not await store.add_comment(9999, "nobody's")

    (answer,) = await store.answers_between(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert (answer.score, answer.comment, answer.subject) == (5, "quick and kind", "request:R-ABC123")
    assert answer.answered_at == NOW
    both = await store.answers_between(NOW, NOW + timedelta(days=2))
    assert [(a.score, a.channel, a.language, a.subject) for a in both][1] == (2, "sms", "es", "handoff:7")


async def test_a_long_comment_is_cut_and_old_comments_are_forgotten() -> None:
    answer = await store.record_score(1, "telegram", "en", "handoff:1", now=NOW - timedelta(days=100))
    await store.add_comment(answer, "x" * 5000)
    (stored,) = await store.answers_between(NOW - timedelta(days=101), NOW)
    assert stored.comment == "x" * store.MAX_COMMENT_CHARS
    assert await database().run(lambda c: store.forget_comments_before(c, NOW - timedelta(days=90))) == 1
    (stored,) = await store.answers_between(NOW - timedelta(days=101), NOW)
    assert (stored.score, stored.comment) == (1, None)
