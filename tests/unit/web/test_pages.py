"""Every HTML page comes from a template: hostile values are shown as text, and the city file brands them."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.alerts import faq_page as faq_module
from bot.catalog import load_city
from bot.handoff import pages
from bot.handoff.service import Turn
from bot.handoff.store import CLAIMED, WAITING, Handoff, Note, StaffAccount
from bot.open311.models import Service, ServiceAttribute, ServiceDefinition
from bot.web.render import render
from tests.support.city import use_city

HOSTILE = "\"'><script>alert(1)</script>&amp;"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


def handoff(state: str) -> Handoff:
    return Handoff(
        id=7,
        sender_id=HOSTILE,
        channel=HOSTILE,
        reason=HOSTILE,
        state=state,
        created_at=NOW,
        updated_at=NOW,
        claimed_by=HOSTILE if state == CLAIMED else None,
        claimed_at=None,
        resolved_by=HOSTILE,
        resolved_at=NOW,
        handed_back=True,
        urgent_at=NOW,
    )


def console_pages() -> dict:
    waiting, claimed = handoff(WAITING), handoff(CLAIMED)
    turns = [
        Turn(index=1, who="resident", text=HOSTILE, at=0.0),
        Turn(index=2, who="staff", text=HOSTILE, at=0.0, staff=HOSTILE, buttons=[HOSTILE]),
    ]
    notes = [Note(id=1, handoff_id=7, author=HOSTILE, text=HOSTILE, created_at=NOW)]
    details = {HOSTILE: HOSTILE, "attributes": {HOSTILE: HOSTILE}, "media_url": f"https://example.org/{HOSTILE}"}
    definition = ServiceDefinition(
        service_code=HOSTILE,
        attributes=[
            ServiceAttribute(
                code=HOSTILE,
                datatype="singlevaluelist",
                required=True,
                description=HOSTILE,
                values=[(HOSTILE, HOSTILE)],
            ),
            ServiceAttribute(code="free", description=HOSTILE),
        ],
    )
    services = [Service(service_code=HOSTILE, service_name=HOSTILE)]
    cursor = {"after": 2, "note": 1}
    account = StaffAccount(
        username=HOSTILE, role=HOSTILE, disabled=False, created_at=NOW, last_sign_in_at=NOW, locked_until=None
    )
    return {
        "login": pages.login_page(HOSTILE, problem=HOSTILE, username=HOSTILE, next_url=HOSTILE),
        "queue": pages.queue_page(
            [waiting, claimed],
            [{"channel": HOSTILE, "sender_id": HOSTILE, "updated_at": NOW}],
            [waiting],
            [HOSTILE],
            HOSTILE,
            HOSTILE,
            problem=HOSTILE,
        ),
        "conversation (claimed, filing)": pages.conversation_page(
            claimed,
            turns,
            notes,
            details,
            HOSTILE,
            HOSTILE,
            cursor,
            filing=pages.file_form(services, HOSTILE, definition, {**details, "location": HOSTILE}),
            problem=HOSTILE,
            paused=True,
            reachable=False,
        ),
        "conversation (no definition)": pages.conversation_page(
            claimed,
            turns,
            notes,
            details,
            HOSTILE,
            HOSTILE,
            cursor,
            filing=pages.file_form(services, HOSTILE, None, details),
        ),
        "conversation (waiting)": pages.conversation_page(waiting, turns, notes, {}, "someone", HOSTILE, cursor),
        "audit": pages.audit_page(
            [{"at": NOW, "actor": HOSTILE, "action": HOSTILE, "handoff_id": 7, "detail": HOSTILE}], HOSTILE, HOSTILE
        ),
        "error": pages.error_page(500, HOSTILE, HOSTILE, HOSTILE),
        "accounts": pages.accounts_page(
            [account], HOSTILE, HOSTILE, "admin", problem=HOSTILE, typed={"username": HOSTILE, "role": HOSTILE}
        ),
        "account": pages.account_page(account, HOSTILE, HOSTILE, "admin", problem=HOSTILE),
    }


def test_hostile_values_are_escaped_on_every_console_page(city: None) -> None:
    for name, page in console_pages().items():
        assert "<script>" not in page, name
        assert HOSTILE not in page, name
        assert ESCAPED in page, name
        assert "\"'>" not in page, name  # no value leaves its attribute


def test_hostile_values_are_escaped_on_the_faq_and_chat_pages(
    city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_city(monkeypatch, tmp_path, HOSTILE, HOSTILE, HOSTILE, "#0b4f8a")
    monkeypatch.setattr(faq_module, "faq_answer", lambda topic, language=None: f"{HOSTILE}\n{HOSTILE}")
    for name, page in {
        "faq": faq_module.faq_page("cooling_warming_centers").body.decode(),
        "faq 404": render("faq/not_found.html"),
        "chat": render("chat/chat.html"),
        "console": pages.login_page("token"),
    }.items():
        assert "<script>" not in page and HOSTILE not in page and ESCAPED in page, name


def test_a_colour_that_is_not_a_colour_is_refused(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_city(monkeypatch, tmp_path, "Lakeside", "211", "Lakeside 211", "red; } body { display: none")
    with pytest.raises(ValueError, match="colour"):
        load_city()


def test_another_city_file_rebrands_every_page_without_code(
    city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    riverton = {
        "faq": faq_module.faq_page("cooling_warming_centers").body.decode(),
        "chat": render("chat/chat.html"),
        "console": pages.login_page("token"),
        "css": render("brand.css"),
    }
    assert all("Riverton" in page or "#0b4f8a" in page for page in riverton.values())

    use_city(monkeypatch, tmp_path, "Town of Lakeside", "211", "Lakeside 211", "#1a5e20")
    faq = faq_module.faq_page("cooling_warming_centers").body.decode()
    chat = render("chat/chat.html")
    console = pages.login_page("token")
    css = render("brand.css")
    assert "Town of Lakeside" in faq and "call 211." in faq and "color: #1a5e20" in faq
    assert "Lakeside 211 assistant - Town of Lakeside" in chat and "(555) 123-4567" in chat
    assert 'href="/chat/static/brand.css"' in chat
    assert "Sign in - Lakeside 211 staff console" in console and "Lakeside 211 <span>staff console</span>" in console
    assert 'href="/console/static/brand.css"' in console
    assert "--brand: #1a5e20;" in css and "--focus: #aa3300;" in css
    for page in (faq, chat, console, css):
        assert "Riverton" not in page and "#0b4f8a" not in page and "010-0311" not in page
