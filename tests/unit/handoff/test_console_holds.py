"""Retention holds on a conversation's page in the real staff console, over HTTP and in a browser.

The console runs alone (`python -m bot.handoff.console`, as `citybot run` starts
it) on its own SQLite database, with no Rasa server behind it: the page says the
transcript cannot be shown, and everything else on it works.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from bot.db.engine import utcnow
from bot.db.schema import audit_log, handoffs, retention_holds
from bot.process.procs import free_port
from tests.support.browser import describe, serious_violations
from tests.support.console import Console, console_alone
from tests.support.staff import PASSWORD, Staff, make_staff

_names = itertools.count(random.randint(100, 999))
_conversations = itertools.count(1)


class HoldsConsole(Console):
    """The running console, as the hold tests use it."""

    def signed_in(self, role: str = "agent") -> Staff:
        member = Staff(self.url, f"hana{next(_names)}")
        make_staff(self, member.username, role=role)
        assert member.login().status_code == 303
        return member

    def handoff(self) -> Tuple[int, str]:
        """A resolved handoff of a new SMS conversation: its number and conversation id."""
        sender_id = f"sms-{next(_conversations):024x}"
        now = utcnow()
        with self.db.engine.begin() as connection:
            handoff_id = connection.execute(
                handoffs.insert().values(
                    sender_id=sender_id, channel="sms", reason="asked", state="resolved", created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]
        return handoff_id, sender_id

    def holds(self, conversation: str) -> List[Tuple[str, str]]:
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                sa.select(retention_holds).where(retention_holds.c.conversation_id == conversation)
            ).all()
        return [(row.held_by, row.reason) for row in rows]

    def handoff_audit(self, handoff_id: int) -> List[Tuple[str, str, str]]:
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                sa.select(audit_log).where(audit_log.c.handoff_id == handoff_id).order_by(audit_log.c.id)
            ).all()
        return [(row.actor, row.action, row.detail) for row in rows]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HoldsConsole]:
    nobody = f"http://127.0.0.1:{free_port()}"  # no Rasa server behind it
    with console_alone(tmp_path_factory.mktemp("console-holds"), {"RASA_URL": nobody}, HoldsConsole) as running:
        yield running


def test_staff_hold_a_conversation_and_release_it_from_its_page(console: HoldsConsole) -> None:
    staff = console.signed_in()
    handoff_id, conversation = console.handoff()
    page = staff.get(f"/console/handoffs/{handoff_id}").text
    assert "contact details 90 days after the conversation's last message" in page
    assert f'action="/console/handoffs/{handoff_id}/hold"' in page

    forged = staff.client.post(f"/console/handoffs/{handoff_id}/hold", data={"reason": "legal"})
    assert forged.status_code == 403 and console.holds(conversation) == []  # no CSRF token
    empty = staff.post(f"/console/handoffs/{handoff_id}/hold", reason="  ")
    assert empty.status_code == 400 and "say why the conversation is kept" in empty.text

    held = staff.post(f"/console/handoffs/{handoff_id}/hold", reason="Legal hold <case 2026-114>")
    assert held.status_code == 303 and held.headers["location"] == f"/console/handoffs/{handoff_id}?done=held"
    assert console.holds(conversation) == [(staff.username, "Legal hold <case 2026-114>")]
    page = staff.get(held.headers["location"]).text
    assert "This conversation is on hold" in page
    assert f"placed by {staff.username}" in page and "Legal hold &lt;case 2026-114&gt;" in page

    again = staff.post(f"/console/handoffs/{handoff_id}/hold", reason="twice")
    assert again.status_code == 409 and "on hold already" in again.text

    assert (
        "A supervisor can release the hold" in page
        and "/unhold" not in staff.get(f"/console/handoffs/{handoff_id}").text
    )
    refused = staff.post(f"/console/handoffs/{handoff_id}/unhold")  # an agent holds, a supervisor releases
    assert refused.status_code == 403 and console.holds(conversation) != []
    other = console.signed_in("supervisor")
    released = other.post(f"/console/handoffs/{handoff_id}/unhold")
    assert released.status_code == 303 and console.holds(conversation) == []
    assert "The hold is released" in other.get(released.headers["location"]).text
    assert other.post(f"/console/handoffs/{handoff_id}/unhold").status_code == 404
    assert console.handoff_audit(handoff_id) == [
        (staff.username, "retention_hold", f"conversation {conversation}"),
        (other.username, "retention_release", f"conversation {conversation}"),
    ]


def test_nobody_signed_out_holds_anything_and_an_unknown_handoff_is_404(console: HoldsConsole) -> None:
    handoff_id, conversation = console.handoff()
    stranger = Staff(console.url, "nobody")
    refused = stranger.client.post(f"/console/handoffs/{handoff_id}/hold", data={"reason": "legal"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/console/login")
    assert console.holds(conversation) == [] and console.handoff_audit(handoff_id) == []
    staff = console.signed_in()
    assert staff.post("/console/handoffs/999999/hold", reason="legal").status_code == 404


def test_the_hold_form_works_in_a_browser_without_accessibility_problems(console: Console, page) -> None:
    from playwright.sync_api import expect

    staff = console.signed_in("supervisor")
    handoff_id, conversation = console.handoff()
    page.goto(f"{console.url}/console/login?next=/console/handoffs/{handoff_id}")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Retention")).to_be_visible()
    violations = serious_violations(page)
    assert not violations, describe(violations)

    page.get_by_label(re.compile("Why keep it longer")).fill("Complaint under review")
    page.get_by_role("button", name="Put on hold").click()
    expect(page.locator("#notice")).to_contain_text("This conversation is on hold")
    expect(page.locator("#retention-hold")).to_contain_text(f"placed by {staff.username}")
    violations = serious_violations(page)
    assert not violations, describe(violations)
    assert console.holds(conversation) == [(staff.username, "Complaint under review")]
    page.get_by_role("button", name="Release the hold").click()
    expect(page.locator("#notice")).to_contain_text("The hold is released")
    assert console.holds(conversation) == []
