"""Staff find a conversation in the running console: by report reference, request number, channel and date.

A resident files a report over the REST channel with the real assistant; staff
search the console over HTTP and, in chromium, from its search page.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import datetime
from typing import List, Tuple

import pytest
from playwright.sync_api import Page, expect

from bot.handoff import pages, store
from tests.e2e.test_conversations import file_report
from tests.support.browser import describe, screenshot, serious_violations
from tests.support.conversation import Conversation
from tests.support.handoff import handoff_of
from tests.support.staff import Staff, make_staff, sign_in, signed_in_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("assistant_secret_key")]

_names = itertools.count(random.randint(100, 999))


@pytest.fixture(scope="module")
def dora(stack, console_url) -> Staff:
    return signed_in_staff(stack, console_url, f"dora{next(_names)}")


def filed(stack) -> Tuple[Conversation, str, str]:
    """A resident who filed a pothole report over REST: (conversation, request number, reference)."""
    talk = Conversation(stack.rasa_port)
    number, reply = file_report(talk, "POTHOLE")
    reference = re.search(r"your reference: (R-[A-Z0-9]{6})", reply).group(1)
    return talk, number, reference


def result_rows(page: str) -> List[str]:
    """The rows of the results table, one string each."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    return re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if body else []


def opened_by(row: str) -> str:
    return re.search(r'<a href="(/console/[a-z]+/\d+)">Open', row).group(1)


def today() -> str:
    return datetime.now(pages.city_zone()).date().isoformat()


def test_a_report_is_found_by_reference_and_request_number_and_opens_its_conversation(stack, dora, db):
    talk, number, reference = filed(stack)
    found = dora.get("/console/search", params={"q": f" {reference.lower()} "})
    assert found.status_code == 200 and "1 conversation found." in found.text
    (row,) = result_rows(found.text)
    assert reference in row and f"city request <strong>{number}</strong>" in row and "(matches the search)" in row
    assert "REST API" in row and "English" in row and "Pothole" in row
    link = opened_by(row)
    assert link.startswith("/console/conversations/")  # no handoff: the read-only transcript
    assert talk.sender not in link  # the conversation's id stays out of the URL

    for typed in (number, f" {number} ", f"#{number}"):
        (by_number,) = result_rows(dora.get("/console/search", params={"q": typed}).text)
        assert opened_by(by_number) == link and reference in by_number

    transcript = dora.get(link)
    assert transcript.status_code == 200
    assert "I need to report a pothole" in transcript.text and reference in transcript.text
    assert "REST API" in transcript.text and 'action="/console/take-over"' in transcript.text

    listed = dora.get("/console/search", params={"channel": "rest", "from": today(), "to": today()}).text
    assert link in listed
    assert link not in dora.get("/console/search", params={"channel": "telegram", "from": today()}).text
    assert link not in dora.get("/console/search", params={"q": reference, "channel": "sms"}).text

    # Once staff have handled it, the search opens the handoff's page.
    assert "city staff" in talk.text("talk to a person")
    handoff = handoff_of(db, talk.sender)
    (row,) = result_rows(dora.get("/console/search", params={"q": reference}).text)
    assert opened_by(row) == f"/console/handoffs/{handoff.id}" and f"#{handoff.id}</a> waiting" in row
    moved = dora.get(link)
    assert moved.status_code == 303 and moved.headers["location"] == f"/console/handoffs/{handoff.id}"
    assert dora.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303
    assert handoff_of(db, talk.sender).state == store.RESOLVED

    log = (stack.var_dir / "logs" / "console.log").read_text()
    assert reference not in log and reference.lower() not in log  # searches are not logged


def test_a_search_that_cannot_run_says_why_and_needs_a_session(console_url, dora):
    refused = dora.get("/console/search", params={"from": "31/12/2026", "q": "R-ABC<b>"})
    assert refused.status_code == 400 and "From must be a date written like" in refused.text
    assert 'value="R-ABC&lt;b&gt;"' in refused.text
    assert dora.get("/console/search", params={"channel": "fax"}).status_code == 400
    assert dora.get("/console/conversations/999999999").status_code == 404
    empty = dora.get("/console/search")
    assert empty.status_code == 200 and "Results" not in empty.text  # the form alone
    anonymous = Staff(console_url, "nobody")
    answer = anonymous.get("/console/search?q=R-KVJ88H")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=/console/search"
    assert anonymous.get("/console/conversations/1").status_code == 303


def test_a_search_by_reference_in_the_browser_opens_the_conversation(stack, console_url, page: Page):
    talk, number, reference = filed(stack)
    username = f"emil{next(_names)}"
    make_staff(stack, username)
    sign_in(page, console_url, username)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", name="Search conversations")).to_be_visible()
    violations = serious_violations(page)
    assert not violations, describe(violations)

    page.get_by_label("Report reference or city request number").fill(reference.lower().replace("-", " "))
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 conversation found.")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("REST API")
    expect(row).to_contain_text(number)
    violations = serious_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "console-search.png")

    row.get_by_role("link", name=re.compile("^Open")).click()
    expect(page.get_by_role("heading", name=re.compile("^Conversation"))).to_be_visible()
    transcript = page.get_by_role("region", name="Transcript, read only")
    expect(transcript).to_contain_text("I need to report a pothole")
    expect(transcript).to_contain_text("Your request number is")
    expect(page.get_by_text(reference).first).to_be_visible()
    violations = serious_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "console-conversation-found.png")
