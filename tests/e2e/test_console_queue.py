"""The queue staff notice, in chromium against the running assistant and console.

Residents talk over the REST channel; a staff member watches the queue: each
row shows what the resident last wrote, the newest arrival is marked, the count
is in the tab's title, an emergency puts its conversation on top marked in words,
and a new arrival can ring and notify (asked for only on the switch's click).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any, List

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import describe, screenshot, serious_violations
from tests.support.conversation import Conversation
from tests.support.handoff import handoff_of
from tests.support.staff import Staff, make_staff, sign_in, signed_in_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]

EMERGENCY = "I smell gas in my kitchen and feel dizzy"
_names = itertools.count(random.randint(100, 999))

# Counts the page's permission requests and records the notifications it shows (the browser's own API underneath).
WATCH_NOTIFICATIONS = """
(() => {
  window.asked = 0;
  window.shown = [];
  const Real = window.Notification;
  if (!Real) return;
  const request = Real.requestPermission.bind(Real);
  Real.requestPermission = (...args) => { window.asked += 1; return request(...args); };
  window.Notification = new Proxy(Real, {
    construct(target, args) {
      window.shown.push({ title: args[0], body: (args[1] || {}).body });
      return new target(...args);
    },
  });
})();
"""


@pytest.fixture(scope="module")
def fay(stack, console_url) -> Staff:
    return signed_in_staff(stack, console_url, f"fay{next(_names)}")


def waiting_rows(page: Page) -> Any:
    return page.locator("#queue-rows tr[data-state='waiting']")


def waiting_count(page: Page) -> int:
    return waiting_rows(page).count()


def row_of(page: Page, talk: Conversation) -> Any:
    return page.locator(f"#queue-rows tr[data-conversation='{talk.sender}']")


def order(page: Page) -> List[str]:
    return [row.get_attribute("data-conversation") or "" for row in waiting_rows(page).all()]


def test_the_queue_shows_latest_messages_the_count_and_urgent_ones_first(stack, console_url, fay, db, browser_session):
    username = f"gus{next(_names)}"
    make_staff(stack, username)
    ana = Conversation(stack.rasa_port)
    assert "city staff" in ana.text("I want to talk to a real person")
    ana.text("The streetlight on 5th Avenue <b>is out</b>")
    with browser_session.active() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        context.add_init_script(WATCH_NOTIFICATIONS)
        page = context.new_page()
        ben = Conversation(stack.rasa_port)
        try:
            sign_in(page, console_url, username)
            row = row_of(page, ana)
            expect(row.locator("[data-latest]")).to_have_text("The streetlight on 5th Avenue <b>is out</b>")
            expect(row.locator("[data-language]")).to_have_text("English")
            expect(row).to_contain_text("Asked for a person")
            count = waiting_count(page)
            expect(page).to_have_title(re.compile(rf"^\({count}\) Queue - "))

            # The switches: off at first, and no permission asked until one is clicked.
            sound, notify = page.get_by_label("Play a sound"), page.get_by_label("Show a browser notification")
            expect(sound).not_to_be_checked()
            expect(notify).not_to_be_checked()
            assert page.evaluate("window.asked") == 0
            notify.check()
            page.wait_for_function("window.asked === 1")
            expect(notify).not_to_be_checked()  # the browser said no: not on, and staff are told why
            expect(page.locator("#problem")).to_contain_text("Notifications are blocked")
            context.grant_permissions(["notifications"], origin=console_url)
            notify.check()
            sound.check()
            expect(notify).to_be_checked()
            assert page.evaluate("window.asked") == 1  # already allowed: not asked again
            page.reload()
            expect(page.get_by_label("Show a browser notification")).to_be_checked()  # remembered
            expect(page.get_by_label("Play a sound")).to_be_checked()
            assert page.evaluate("window.asked") == 0  # never on load

            # A new arrival: live, marked newest, counted in the title, notified without what they wrote.
            assert "city staff" in ben.text("talk to a person please")
            newcomer = row_of(page, ben)
            expect(newcomer).to_be_visible(timeout=10_000)
            expect(newcomer).to_have_attribute("data-newest", "")
            expect(newcomer.locator("th")).to_contain_text("Newest")
            expect(row.locator("th")).not_to_contain_text("Newest")
            expect(page).to_have_title(re.compile(rf"^\({count + 1}\) Queue - "))
            page.wait_for_function("window.shown.length >= 1")
            (note,) = [n for n in page.evaluate("window.shown") if f"#{handoff_of(db, ben.sender).id}" in n["body"]]
            assert note["title"] == "Someone new is waiting" and note["body"].startswith("REST API, English")
            assert "please" not in note["body"]

            # An emergency while waiting: on top of the others, marked in words.
            ben.say(EMERGENCY)
            expect(newcomer.locator("[data-latest]")).to_have_text(EMERGENCY, timeout=10_000)
            expect(newcomer).to_have_attribute("data-urgent", "")
            expect(newcomer).to_contain_text("Urgent")
            urgent = [r.get_attribute("data-urgent") is not None for r in waiting_rows(page).all()]
            assert urgent == sorted(urgent, reverse=True)  # every urgent one before the others
            assert order(page).index(ben.sender) < order(page).index(ana.sender)
            page.wait_for_function("window.shown.some(n => n.title.startsWith('Urgent'))")

            # What a resident writes next shows in their row at once.
            ana.say("It is right by the school")
            expect(row.locator("[data-latest]")).to_have_text("It is right by the school", timeout=10_000)
            violations = serious_violations(page)
            assert not violations, describe(violations)
            screenshot(page, "console-queue.png")
        finally:
            context.close()
            for talk in (ana, ben):
                fay.post(f"/console/handoffs/{handoff_of(db, talk.sender).id}/resolve", hand_back="1")
