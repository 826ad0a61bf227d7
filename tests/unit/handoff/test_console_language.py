"""The staff console stays in English and shows each conversation's language (the queue, live too, and the page)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from bot.db.engine import reset_database
from bot.handoff import pages, store
from bot.handoff.console import queue
from bot.handoff.store import WAITING, Handoff
from bot.i18n.store import remember_language

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


def waiting(handoff_id: int, sender_id: str) -> Handoff:
    return Handoff(handoff_id, sender_id, "sms", store.ASKED, WAITING, NOW, NOW, None, None, None, None, None)


def row_of(page: str, sender_id: str) -> str:
    (row,) = [line for line in page.splitlines() if f'data-conversation="{sender_id}"' in line]
    return row


def test_languages_are_named_in_english_for_staff() -> None:
    assert (pages.language_name("es"), pages.language_name("en")) == ("Spanish", "English")
    assert pages.language_name(None) == "English"  # a resident never seen reads the default


def test_each_queue_row_and_the_conversation_page_show_the_residents_language() -> None:
    page = pages.queue_page(
        [waiting(1, "sms-a"), waiting(2, "sms-b")], [], [], [], "dana", "csrf", resident_languages={"sms-a": "es"}
    )
    assert '<th scope="col">Language</th>' in page
    assert re.search(r"<td data-language>Spanish</td>", row_of(page, "sms-a"))
    assert re.search(r"<td data-language>English</td>", row_of(page, "sms-b"))
    conversation = pages.conversation_page(
        waiting(1, "sms-a"), [], [], {}, "dana", "csrf", {"after": 0, "note": 0}, resident_language="es"
    )
    assert '<dt>Language</dt><dd id="resident-language">Spanish</dd>' in conversation


async def test_the_live_queue_carries_each_residents_language(database: None) -> None:
    await store.open_handoff("sms-a", "sms", store.ASKED)
    await store.open_handoff("sms-b", "sms", store.ASKED)
    await remember_language("sms-a", "es")
    items = json.loads(await queue.queue_json())["items"]
    assert {(item["conversation"], item["language_name"]) for item in items} == {
        ("sms-a", "Spanish"),
        ("sms-b", "English"),
    }
