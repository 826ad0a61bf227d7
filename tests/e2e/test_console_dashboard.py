"""The dashboard in the running console, over HTTP and in chromium, on conversations whose figures are known.

The console runs alone (tests/support/console.py) on a var folder holding the
scripted set of tests/support/dashboard.py as the assistant keeps such data:
Rasa's tracker store (var/rasa.db, written by Rasa's SQLTrackerStore, one
conversation anonymised by the retention job's code) and the assistant's
database (handoffs, audit lines, reports, status updates). Agents are refused;
a supervisor reads the known figures on the page and in each table's CSV.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from pathlib import Path
from typing import Any, Iterator, List, Sequence

import pytest
from playwright.sync_api import Page, expect

from tests.support import dashboard as known
from tests.support.browser import describe, run_async, screenshot, serious_violations
from tests.support.console import Console, console_alone
from tests.support.staff import Staff, make_staff, sign_in

pytestmark = [pytest.mark.e2e]

RANGE = {"from": "2026-03-02", "to": "2026-03-04"}
REFUSED = "This page is for supervisors and administrators only."
TABLES = (
    "summary",
    "containment",
    "by_day",
    "by_channel",
    "by_language",
    "questions",
    "unanswered",
    "jobs",
    "handoffs",
    "reports_by_service",
    "reports_by_channel",
    "satisfaction_summary",
    "satisfaction_scores",
    "satisfaction_by_channel",
)
_names = itertools.count(random.randint(100, 999))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    var: Path = tmp_path_factory.mktemp("console-dashboard")
    run_async(known.write_scripted_data(f"sqlite:///{var / 'rasa.db'}", f"sqlite:///{var / 'citybot.db'}"))
    with console_alone(var, {"CONSOLE_SIGNIN_ATTEMPTS": "1000"}) as running:
        yield running


def signed_in(console: Console, role: str) -> Staff:
    member = console.staff(f"{role}{next(_names)}")
    make_staff(console, member.username, role=role)
    assert member.login().status_code == 303
    return member


def exported(member: Staff, table: str, **dates: str) -> List[List[str]]:
    answer = member.get("/console/dashboard.csv", params={"table": table, **(dates or RANGE)})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="dashboard-{table}-{RANGE["from"]}-to-{RANGE["to"]}.csv"'
    )
    return list(csv.reader(io.StringIO(answer.text)))


def texts(rows: Sequence[Sequence[Any]]) -> List[List[str]]:
    return [[str(value) for value in row] for row in rows]


def test_agents_are_refused_the_dashboard_and_its_csv(console):
    agent = signed_in(console, "agent")
    for path in ("/console/dashboard", "/console/dashboard.csv?table=by_day"):
        page = agent.get(path)
        assert page.status_code == 403 and REFUSED in page.text, path
        assert "Your account has the agent role" in page.text
        api = agent.get(path, headers={"Accept": "application/json"})
        assert api.status_code == 403 and api.json()["error"].startswith(REFUSED)
    assert 'href="/console/dashboard"' not in agent.get("/console").text  # no link to what they cannot open

    nobody = Staff(console.url, "nobody")
    answer = nobody.get("/console/dashboard")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=/console/dashboard"
    assert nobody.get("/console/dashboard.csv?table=by_day").status_code == 303

    for role in ("supervisor", "admin"):
        member = signed_in(console, role)
        assert 'href="/console/dashboard"' in member.get("/console").text
        page = member.get("/console/dashboard")  # no dates: the last 7 days
        assert page.status_code == 200 and "Figures from" in page.text


def test_a_supervisor_exports_each_table_with_the_known_figures(console):
    supervisor = signed_in(console, "supervisor")
    assert exported(supervisor, "summary") == [
        ["Figure", "Value", "Unit"],
        ["Conversations", "10", ""],
        ["Containment rate", "50.0", "%"],
        ["Handoff rate", "30.0", "%"],
        ["Abandoned after a misunderstanding", "20.0", "%"],
        ["Resident messages the assistant answered", "20", ""],
        ["Messages not understood", "5", ""],
        ["Fallback rate", "25.0", "%"],
    ]
    assert exported(supervisor, "jobs")[1:] == [[label, str(n), ""] for label, n in known.JOBS]
    assert exported(supervisor, "by_day")[1:] == texts((str(d), *n) for d, *n in known.BY_DAY)
    assert exported(supervisor, "by_channel")[1:] == texts(known.BY_CHANNEL)
    assert exported(supervisor, "by_language")[1:] == texts(known.BY_LANGUAGE)
    assert exported(supervisor, "questions")[1:] == texts(known.QUESTIONS)
    # A cell a spreadsheet would run as a formula ("@city ...") is written as text.
    assert exported(supervisor, "unanswered") == [
        ["Message (personal data masked)", "Times"],
        ["xyzzy", "2"],
        ["'@city what about ticket [reference] at [address]?", "1"],
        ["call me at [phone]", "1"],
        ["my email is [email] and I live at [address]", "1"],
    ]
    assert exported(supervisor, "handoffs") == [
        [
            "Reason",
            "Handoffs",
            "Claimed",
            "Not claimed",
            "Median wait to claim (minutes)",
            "Median wait to first staff reply (minutes)",
        ],
        ["Asked for a person", "2", "1", "1", "2.0", "10.0"],
        ["Not understood by the assistant", "1", "1", "0", "4.0", "6.0"],
        ["Picked up by staff", "1", "1", "0", "", ""],
        ["All handoffs", "4", "3", "1", "3.0", "8.0"],
    ]
    assert exported(supervisor, "reports_by_service")[1:] == [
        ["Graffiti removal", "2", "1", "0", ""],
        ["Pothole", "2", "2", "2", "72.0"],
        ["Streetlight out", "1", "0", "0", ""],
        ["All services", "5", "3", "2", "72.0"],
    ]
    assert exported(supervisor, "reports_by_channel")[1:] == [
        ["Graffiti removal", "No conversation", "1", "0", "0", ""],
        ["Graffiti removal", "SMS", "1", "1", "0", ""],
        ["Pothole", "SMS", "1", "1", "1", "48.0"],
        ["Pothole", "Web chat", "1", "1", "1", "96.0"],
        ["Streetlight out", "Telegram", "1", "0", "0", ""],
    ]
    assert exported(supervisor, "containment")[1:] == [
        ["Contained", "5", "50.0"],
        ["Handed to staff", "3", "30.0"],
        ["Abandoned after a misunderstanding", "2", "20.0"],
    ]
    page = supervisor.get("/console/dashboard", params=RANGE).text
    links = set(
        re.findall(r'href="/console/dashboard\.csv\?table=([a-z_]+)&amp;from=2026-03-02&amp;to=2026-03-04"', page)
    )
    assert links == set(TABLES)  # a CSV link for every table


def test_a_range_or_table_that_cannot_be_used_is_refused_with_why(console):
    supervisor = signed_in(console, "supervisor")
    refused = supervisor.get("/console/dashboard", params={"from": "2026-03-05", "to": "2026-03-01"})
    assert refused.status_code == 400 and "after the &#39;to&#39; date" in refused.text
    assert 'value="2026-03-05"' in refused.text  # the form as it was sent
    assert supervisor.get("/console/dashboard", params={"from": "<b>x</b>"}).status_code == 400
    unknown = supervisor.get("/console/dashboard.csv", params={"table": "secrets", **RANGE})
    assert unknown.status_code == 400 and "Choose a table to export: summary, containment" in unknown.text
    assert supervisor.get("/console/dashboard.csv", params={"table": "by_day", "to": "never"}).status_code == 400


def rows_of(page: Page, table: str) -> List[List[str]]:
    """The body rows of a table named `table`, each cell's text."""
    found = page.get_by_role("table", name=table, exact=True)
    return [row.locator("th, td").all_inner_texts() for row in found.locator("tbody tr").all()]


def test_a_supervisor_reads_the_known_figures_on_the_dashboard(console, page: Page):
    supervisor = f"supervisor{next(_names)}"
    make_staff(console, supervisor, role="supervisor")
    sign_in(page, console.url, supervisor)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.get_by_label("From", exact=True).fill(RANGE["from"])
    page.get_by_label("To", exact=True).fill(RANGE["to"])
    page.get_by_role("button", name="Show the figures").click()
    expect(page.get_by_role("status").filter(has_text="Figures from")).to_have_text(
        "Figures from Mon 2026-03-02 to Wed 2026-03-04."
    )

    figures = page.locator('dl.figures[aria-labelledby="summary-title"] div')
    shown = {figure.locator("dt").inner_text(): figure.locator("dd").inner_text() for figure in figures.all()}
    assert shown == known.SUMMARY_SHOWN
    survey = page.locator('dl.figures[aria-labelledby="satisfaction_summary-title"] div')
    shown = {figure.locator("dt").inner_text(): figure.locator("dd").inner_text() for figure in survey.all()}
    assert shown == {"Answers": "0", "Average score (1 to 5)": "—", "With a comment": "0"}  # none in the set
    assert rows_of(page, "Conversations by day") == [
        ["Mon 2026-03-02", "2", "1", "0", "1"],
        ["Tue 2026-03-03", "5", "1", "3", "1"],
        ["Wed 2026-03-04", "3", "3", "0", "0"],
    ]
    assert rows_of(page, "What became of the conversations") == [
        ["Contained", "5", "50%"],
        ["Handed to staff", "3", "30%"],
        ["Abandoned after a misunderstanding", "2", "20%"],
    ]
    assert rows_of(page, "Conversations by channel") == texts(known.BY_CHANNEL)
    assert rows_of(page, "Conversations by language") == texts(known.BY_LANGUAGE)
    assert rows_of(page, "Top city questions") == texts(known.QUESTIONS)
    assert rows_of(page, "Top unanswered messages") == texts(known.UNANSWERED)
    assert rows_of(page, "Handoffs opened, by reason") == [
        ["Asked for a person", "2", "1", "1", "2 min", "10 min"],
        ["Not understood by the assistant", "1", "1", "0", "4 min", "6 min"],
        ["Picked up by staff", "1", "1", "0", "—", "—"],
        ["All handoffs", "4", "3", "1", "3 min", "8 min"],
    ]
    assert rows_of(page, "Reports by service") == [
        ["Graffiti removal", "2", "1", "0", "—"],
        ["Pothole", "2", "2", "2", "3 d 0 h"],
        ["Streetlight out", "1", "0", "0", "—"],
        ["All services", "5", "3", "2", "3 d 0 h"],
    ]
    assert rows_of(page, "Reports by service and channel")[2] == ["Pothole", "SMS", "1", "1", "1", "2 d 0 h"]

    # Each chart is an image named for screen readers, its bars drawn in the page (no script, nothing from elsewhere).
    by_day = page.get_by_role("img", name=re.compile("^Column chart of the conversations of each day"))
    expect(by_day).to_be_visible()
    expect(by_day.locator("rect.chart__bar")).to_have_count(3)
    expect(page.get_by_role("img", name=re.compile("^Bar chart of the conversations on each channel"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Bar chart"))).to_have_count(6)  # the scores' chart too

    violations = serious_violations(page)
    assert not violations, describe(violations)
    screenshot(page, "console-dashboard.png")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Conversations by day” as CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == [
        "Day,Conversations,Contained,Handed to staff,Abandoned after a misunderstanding",
        "2026-03-02,2,1,0,1",
        "2026-03-03,5,1,3,1",
        "2026-03-04,3,3,0,0",
    ]
