"""Answers at /console/answers in the real staff console, over HTTP and in a browser.

The console runs alone (`python -m bot.handoff.console`, as `citybot run` starts
it) on its own SQLite database: editing, previewing, publishing and restoring
need nothing else (tests/e2e/test_console_answers.py has residents reading the
published texts). Agents are refused every page and form (403); bad input gets
a clear 4xx and changes nothing; every change is audited.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import datetime, timezone
from typing import Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from bot.answers.editable import editable_answers
from bot.answers.store import AnswerVersion
from bot.db.schema import answer_versions, audit_log
from bot.handoff import pages
from tests.support.answers import LIBRARY, edited_english, library_answer
from tests.support.browser import describe, serious_violations
from tests.support.console import Console, console_alone
from tests.support.staff import PASSWORD, Staff, make_staff, sign_in

ORIGINAL_EN = library_answer().original("en")
REFUSED = "This page is for supervisors and administrators only."
_names = itertools.count(random.randint(100, 999))


class AnswersConsole(Console):
    """The running console, as the answers tests use it."""

    def signed_in(self, role: str) -> Staff:
        member = Staff(self.url, f"{role[:3]}{next(_names)}")
        make_staff(self, member.username, role=role)
        assert member.login().status_code == 303
        return member

    def answers_audit(self, actor: str) -> List[Tuple[str, str]]:
        return [(action, detail) for action, detail in self.audit(actor) if action.startswith("answer_")]

    def versions(self) -> List[Tuple[str, str, str]]:
        with self.db.engine.connect() as connection:
            rows = connection.execute(sa.select(answer_versions).order_by(answer_versions.c.id)).all()
        return [(row.response, row.language, row.author) for row in rows]

    def forget_versions(self) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(answer_versions.delete())
            connection.execute(audit_log.delete().where(audit_log.c.action.like("answer_%")))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnswersConsole]:
    env = {"CONSOLE_SIGNIN_ATTEMPTS": "1000", "ANSWERS_REFRESH_SECONDS": "5"}
    with console_alone(tmp_path_factory.mktemp("console-answers"), env, AnswersConsole) as running:
        yield running


@pytest.fixture
def fresh(console: AnswersConsole) -> Iterator[AnswersConsole]:
    """The console with no answer edited, before and after the test."""
    console.forget_versions()
    yield console
    console.forget_versions()


def seen_on(page: str) -> str:
    return re.search(r'name="seen" value="(\d+)"', page).group(1)


# --- roles -----------------------------------------------------------------------------------


def test_an_agent_is_refused_the_answers_pages_and_forms(fresh):
    agent, supervisor = fresh.signed_in("agent"), fresh.signed_in("supervisor")
    for path in ("/console/answers", f"{LIBRARY}/en", "/console/answers/greet/es"):
        page = agent.get(path)
        assert page.status_code == 403 and REFUSED in page.text, path
        assert "Your account has the agent role" in page.text
        api = agent.get(path, headers={"Accept": "application/json"})
        assert api.status_code == 403 and api.json()["error"].startswith(REFUSED)
    for action in ("preview", "publish", "restore"):  # with the right CSRF token: the role is what is missing
        answer = agent.post(f"{LIBRARY}/en/{action}", text=edited_english("Agent"), seen="0", version="0")
        assert answer.status_code == 403 and REFUSED in answer.text, action
    assert 'href="/console/answers"' not in agent.get("/console").text  # no link to what they cannot open
    assert 'href="/console/answers"' in supervisor.get("/console").text
    assert fresh.versions() == [] and fresh.answers_audit(agent.username) == []
    admin = fresh.signed_in("admin")
    assert admin.get("/console/answers").status_code == 200
    anonymous = Staff(fresh.url, "nobody")
    assert anonymous.get("/console/answers").headers["location"] == "/console/login?next=/console/answers"
    assert anonymous.get(f"{LIBRARY}/en", headers={"Accept": "application/json"}).status_code == 401


# --- a supervisor edits -----------------------------------------------------------------------


def test_a_supervisor_previews_publishes_and_restores_and_each_change_is_audited(fresh):
    sue = fresh.signed_in("supervisor")
    listing = sue.get("/console/answers").text
    assert '<a href="/console/answers" aria-current="page">Answers</a>' in listing
    assert listing.count("As trained") == 2 * 27  # the greeting and 26 FAQ answers, in English and Spanish
    page = sue.get(f"{LIBRARY}/en").text
    assert seen_on(page) == "0" and "The text the assistant was trained with." in page

    text = edited_english("Library news\nsecond line")
    preview = sue.post(f"{LIBRARY}/en/preview", text=text.replace("\n", "\r\n"), seen="0")
    assert preview.status_code == 200 and "passes every check" in preview.text
    assert 'action="/console/answers/faq.library_hours/en/publish"' in preview.text
    assert fresh.versions() == []  # a preview changes nothing

    published = sue.post(f"{LIBRARY}/en/publish", text=text, seen="0")
    assert published.status_code == 303
    assert published.headers["location"] == "/console/answers/faq.library_hours/en?done=answer_published"
    page = sue.get(published.headers["location"]).text
    assert "Published. Residents get the new text within 5 seconds, with no retraining." in page
    assert "Library news\nsecond line" in page and f"published by {sue.username}" in page and seen_on(page) == "1"
    again = sue.post(f"{LIBRARY}/en/publish", text=text, seen="1")
    assert again.headers["location"].endswith("?done=answer_unchanged")

    tom = fresh.signed_in("supervisor")
    assert tom.post(f"{LIBRARY}/en/publish", text=edited_english("Tom's"), seen="1").status_code == 303
    restored = sue.post(f"{LIBRARY}/en/restore", version="1", seen="2")
    assert restored.headers["location"].endswith("?done=answer_restored")
    original = tom.post(f"{LIBRARY}/en/restore", version="0", seen="3")
    assert original.status_code == 303
    history = sue.get(f"{LIBRARY}/en").text
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', history, re.S)
    assert [number for number, _ in rows] == ["4", "3", "2", "1", "0"]
    assert "Restored the original." in rows[0][1] and tom.username in rows[0][1]
    assert "Restored version 1." in rows[1][1] and "Library news" in rows[1][1] and sue.username in rows[1][1]
    assert "Tom&#39;s" in rows[2][1] and "Restore version 2" in rows[2][1]
    assert "Restore the original" not in rows[4][1]  # residents read it already
    assert sue.get("/console/answers").text.count("As trained") == 2 * 27

    assert fresh.answers_audit(sue.username) == [
        ("answer_publish", "utter_faq/library_hours [en] version 1"),
        ("answer_restore", "utter_faq/library_hours [en] version 3: back to version 1"),
    ]
    assert fresh.answers_audit(tom.username) == [
        ("answer_publish", "utter_faq/library_hours [en] version 2"),
        ("answer_restore", "utter_faq/library_hours [en] version 4: the original"),
    ]
    audit_page = sue.get("/console/audit").text
    assert "utter_faq/library_hours [en] version 3: back to version 1" in audit_page


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(fresh):
    sue = fresh.signed_in("supervisor")
    for path in ("/console/answers/faq.no_such_topic/en", f"{LIBRARY}/fr", "/console/answers/utter_greet/en"):
        missing = sue.get(path)
        assert missing.status_code == 404 and "There is no such answer in that language." in missing.text
    assert sue.post("/console/answers/faq.no_such_topic/en/publish", text="x", seen="0").status_code == 404
    no_csrf = sue.client.post(f"{LIBRARY}/en/publish", data={"text": edited_english("X"), "seen": "0"})
    assert no_csrf.status_code == 403

    dropped = ORIGINAL_EN.replace(" A library card is free for residents.", "")
    preview = sue.post(f"{LIBRARY}/en/preview", text=dropped, seen="0")
    assert preview.status_code == 400 and "This text cannot be published" in preview.text
    assert "no longer states what the city file says of this topic: “free”" in preview.text
    assert "/publish" not in preview.text  # nothing to publish from a refused preview
    refusals = [
        (dropped, "0", 400, "“free”"),
        ("x" * 601, "0", 400, "at most 600"),
        (edited_english("Hello {name}"), "0", 400, "{name} is not a slot"),
        ("", "0", 400, "The answer is empty."),
        (edited_english("Fine"), "zero", 400, "not a version number"),
        (edited_english("Fine"), "3", 409, "changed this answer while you were editing"),
    ]
    for text, version, status, why in refusals:
        answer = sue.post(f"{LIBRARY}/en/publish", text=text, seen=version)
        assert answer.status_code == status and why in answer.text, (text, version)
        assert 'id="answer-text"' in answer.text  # the page again, the text kept to fix
    escaped = sue.post(f"{LIBRARY}/en/preview", text=edited_english("<b>bold</b> &amp;"), seen="0")
    assert escaped.status_code == 200 and "&lt;b&gt;bold&lt;/b&gt; &amp;amp;" in escaped.text
    assert "<b>bold" not in escaped.text
    missing = sue.post(f"{LIBRARY}/en/restore", version="4", seen="0")
    assert missing.status_code == 404 and "This answer has no version 4." in missing.text
    assert sue.post(f"{LIBRARY}/en/restore", version="-1", seen="0").status_code == 400
    assert fresh.versions() == [] and fresh.answers_audit(sue.username) == []


# --- in the browser -----------------------------------------------------------------------------


def no_serious_violations(page: Page) -> None:
    violations = serious_violations(page)
    assert not violations, describe(violations)


def test_the_answers_pages_pass_axe_and_an_agent_is_refused_them(fresh, page: Page):
    supervisor = f"sal{next(_names)}"
    make_staff(fresh, supervisor, role="supervisor")
    sign_in(page, fresh.url, supervisor, PASSWORD)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Answers").click()
    expect(page.get_by_role("heading", name="Answers", exact=True)).to_be_visible()
    no_serious_violations(page)
    page.get_by_role("link", name="Greeting in Spanish").click()
    expect(page.get_by_role("heading", name="Greeting in Spanish")).to_be_visible()
    expect(page.get_by_role("region", name="What residents read now")).to_contain_text("Buttons: Reportar un problema")
    no_serious_violations(page)

    page.get_by_label("Text in Spanish").fill("¡Hola! Soy el asistente {nombre}.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("{nombre} is not a slot")
    no_serious_violations(page)
    page.get_by_label("Text in Spanish").fill("¡Hola! Soy el asistente 311 de Riverton. ¿En qué le puedo ayudar?")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview")).to_contain_text("passes every check")
    page.get_by_role("button", name="Publish this text").click()
    expect(page.get_by_role("status").first).to_contain_text("Published.")
    no_serious_violations(page)
    assert fresh.answers_audit(supervisor) == [("answer_publish", "utter_greet [es] version 1")]

    agent = f"ann{next(_names)}"
    make_staff(fresh, agent, role="agent")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, fresh.url, agent, PASSWORD)
    expect(page.get_by_role("navigation", name="Console").get_by_role("link", name="Answers")).to_have_count(0)
    page.goto(f"{fresh.url}/console/answers/greet/es")
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    no_serious_violations(page)


# --- the list of answers --------------------------------------------------------------------------


def test_the_list_flags_a_published_text_that_no_longer_states_the_city_files_facts():
    now = datetime.now(timezone.utc)
    outgrown = AnswerVersion(1, 2, "utter_faq/library_hours", "en", ORIGINAL_EN.replace("free", "$5"), "sue", now, None)
    fine = AnswerVersion(2, 1, "utter_faq/library_hours", "es", None, "sue", now, 0)
    rows = pages.answer_rows(
        editable_answers(), {("utter_faq/library_hours", "en"): outgrown, ("utter_faq/library_hours", "es"): fine}
    )
    flagged = [(row.answer.key, row.language, row.edited) for row in rows if row.problems]
    assert flagged == [("faq.library_hours", "en", True)]
    (spanish,) = [row for row in rows if row.answer.key == "faq.library_hours" and row.language == "es"]
    assert not spanish.edited and spanish.text == library_answer().original("es")  # restored: as trained
    page = pages.answers_page(rows, "a minute", "sue", "token", "supervisor")
    assert page.count("Needs a fix") == 1 and "“free”" in page
