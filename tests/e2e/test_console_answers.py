"""Answers staff edit in the running console, and the running assistant answering with them.

The stack's Rasa server reads the published answers every 2 seconds
(ANSWERS_REFRESH_SECONDS in tests/support/stack.py; 60 by default). A
supervisor edits, previews and publishes; residents get the new text on the
web chat and over REST, in the language it was written for; the original comes
back when restored. Every test leaves the answers as trained. The console's
pages, roles and refusals have their tests with the console alone
(tests/unit/handoff/test_console_answers.py).
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Callable, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from bot.db.engine import Database
from bot.db.schema import answer_versions, audit_log
from tests.support.answers import LIBRARY, edited_english, library_answer
from tests.support.browser import describe, screenshot, serious_violations
from tests.support.conversation import Conversation
from tests.support.staff import PASSWORD, Staff, make_staff, sign_in

pytestmark = [pytest.mark.e2e]

ORIGINAL_EN = library_answer().original("en")
ORIGINAL_ES = library_answer().original("es")
WITHIN_A_MINUTE = 60.0
_names = itertools.count(random.randint(100, 999))


@pytest.fixture(scope="module")
def supervisor(stack, console_url) -> Staff:
    member = Staff(console_url, f"sue{next(_names)}")
    make_staff(stack, member.username, role="supervisor")
    assert member.login().status_code == 303
    return member


@pytest.fixture
def as_trained(db: Database) -> Iterator[None]:
    """The library answer as trained after the test, whatever happened in it."""
    yield
    with db.engine.begin() as connection:
        connection.execute(answer_versions.delete())


def answers_audit(db: Database, actor: str) -> List[Tuple[str, str]]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.detail)
            .where(audit_log.c.actor == actor, audit_log.c.action.like("answer_%"))
            .order_by(audit_log.c.id)
        ).all()
    return [(row.action, row.detail) for row in rows]


def eventually(check: Callable[[], bool], seconds: float = WITHIN_A_MINUTE) -> float:
    """Seconds until `check()` held (polled every second); fails after `seconds`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds:g} seconds"
        time.sleep(1)
    return time.monotonic() - start


# --- what residents read ---------------------------------------------------------------------------


def test_a_spanish_edit_reaches_spanish_residents_only_and_restoring_brings_back_the_original(
    stack, supervisor, db, as_trained
):
    spanish = ORIGINAL_ES.replace("La Biblioteca Principal", "Hoy y siempre, la Biblioteca Principal")
    published = supervisor.post(f"{LIBRARY}/es/publish", text=spanish, seen="0")
    assert published.status_code == 303 and published.headers["location"] == f"{LIBRARY}/es?done=answer_published"
    assert (
        "Published. Residents get the new text within 2 seconds" in supervisor.get(published.headers["location"]).text
    )

    def spanish_resident_reads(text: str) -> bool:
        return text in Conversation(stack.rasa_port).text("¿a qué hora abre la biblioteca?", {"language": "es"})

    eventually(lambda: spanish_resident_reads("Hoy y siempre"))
    english = Conversation(stack.rasa_port).text("when is the library open")
    assert ORIGINAL_EN in english  # the English answer is as trained

    restored = supervisor.post(f"{LIBRARY}/es/restore", version="0", seen="1")
    assert restored.headers["location"] == f"{LIBRARY}/es?done=answer_restored"
    eventually(lambda: spanish_resident_reads(ORIGINAL_ES))
    assert answers_audit(db, supervisor.username) == [
        ("answer_publish", "utter_faq/library_hours [es] version 1"),
        ("answer_restore", "utter_faq/library_hours [es] version 2: the original"),
    ]


# --- in the browser ---------------------------------------------------------------------------------


def no_serious_violations(page: Page) -> None:
    violations = serious_violations(page)
    assert not violations, describe(violations)


def test_a_supervisor_edits_an_answer_and_the_web_chat_says_it_within_a_minute(
    stack, console_url, db, page: Page, as_trained
):
    supervisor = f"sam{next(_names)}"
    make_staff(stack, supervisor, role="supervisor")
    sign_in(page, console_url, supervisor, PASSWORD)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Answers").click()
    expect(page.get_by_role("heading", name="Answers", exact=True)).to_be_visible()
    no_serious_violations(page)
    page.get_by_role("link", name="FAQ: Library hours in English").click()
    expect(page.get_by_role("heading", name="FAQ: Library hours in English")).to_be_visible()
    no_serious_violations(page)

    # a text that drops a fact: the preview says which, and offers no publishing
    box = page.get_by_label("Text in English")
    box.fill(ORIGINAL_EN.replace("closed Sunday", "open every day"))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("“closed Sunday”")
    expect(page.get_by_role("button", name="Publish this text")).to_have_count(0)

    marker = f"Updated by the city {random.randint(1000, 9999)}"
    page.get_by_label("Text in English").fill(edited_english(marker))
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text(marker)
    expect(preview).to_contain_text("passes every check")
    no_serious_violations(page)
    screenshot(page, "console-answer-preview.png")
    page.get_by_role("button", name="Publish this text").click()
    expect(page.get_by_role("status").first).to_contain_text("Published.")
    expect(page.locator("tr[data-version='1']")).to_contain_text(supervisor)
    expect(page.locator("tr[data-version='1']")).to_contain_text(marker)
    no_serious_violations(page)
    screenshot(page, "console-answer.png")

    chat = page.context.new_page()
    chat.goto(f"http://127.0.0.1:{stack.rasa_port}/chat")
    replies = chat.locator("#log .message--bot")
    expect(replies.first).to_be_visible(timeout=WITHIN_A_MINUTE * 1000)  # the greeting a new chat opens with

    def web_chat_says_it() -> bool:
        before = replies.count()
        chat.get_by_label("Your message").fill("when is the library open")
        chat.get_by_label("Your message").press("Enter")
        expect(replies.nth(before)).to_contain_text("Main Library", timeout=WITHIN_A_MINUTE * 1000)
        return any(marker in text for text in replies.all_inner_texts()[before:])

    took = eventually(web_chat_says_it)
    assert took < WITHIN_A_MINUTE
    expect(chat.locator("#log .message--bot", has_text=marker)).to_contain_text(edited_english(marker))
    chat.close()

    page.get_by_role("button", name="Restore the original").click()
    expect(page.get_by_role("status").first).to_contain_text("Restored as a new version.")
    expect(page.locator("tr[data-version='2']")).to_contain_text("Restored the original.")
    assert answers_audit(db, supervisor) == [
        ("answer_publish", "utter_faq/library_hours [en] version 1"),
        ("answer_restore", "utter_faq/library_hours [en] version 2: the original"),
    ]
