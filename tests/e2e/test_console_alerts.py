"""Crisis alerts in the running console: two supervisors, over HTTP and in chromium.

Over HTTP, the console runs alone on its own database (tests/support/console.py):
agents are refused every alerts page and form; the author of an alert can
neither approve nor send it; a change voids the approval; each step is audited.
In chromium, the whole assistant runs (the worker delivers, the fake clouds
receive): supervisor A writes an alert, cannot send it, supervisor B approves
it, and each Telegram and SMS subscriber gets it exactly once.
"""

from __future__ import annotations

import itertools
import random
import re
import time
import uuid
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from bot.alerts.store import Alert, alert_message
from bot.db.engine import Database, utcnow
from bot.db.schema import alert_deliveries, alert_page_posts, alerts, audit_log, job_subscriptions
from bot.process.stack_processes import worker_process
from tests.support.browser import describe, screenshot, serious_violations
from tests.support.console import Console, console_alone
from tests.support.residents import Resident, add_residents
from tests.support.stack import MESSENGER_PAGE_ACCESS_TOKEN, MESSENGER_PAGE_ID
from tests.support.staff import Staff, make_staff, sign_in
from tests.support.telegram import TelegramChat
from tests.support.twilio import Phone

pytestmark = [pytest.mark.e2e]

REFUSED = "This page is for supervisors and administrators only."
STORM = "Severe storm tonight after 9 PM: stay indoors and away from windows."
_names = itertools.count(random.randint(100, 999))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    env = {"CONSOLE_SIGNIN_ATTEMPTS": "1000", "PUBLIC_URL": "https://311.riverton.example"}
    with console_alone(tmp_path_factory.mktemp("console-alerts"), env) as running:
        yield running


def signed_in(console: Console, role: str) -> Staff:
    member = console.staff(f"{role}{next(_names)}")
    make_staff(console, member.username, role=role)
    assert member.login().status_code == 303
    return member


def new_alert(**changes: str) -> Dict[str, str]:
    form = {"topic": "weather", "zone": "north", "severity": "warning", "text_en": STORM, "text_es": "", "faq": ""}
    form.update(changes)
    return form


def alert_id_of(answer: httpx.Response) -> int:
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/console/alerts/(\d+)\?done=alert_drafted", answer.headers["location"])
    assert match, answer.headers["location"]
    return int(match.group(1))


def audited(db: Database, actor: str) -> List[Tuple[str, str]]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.detail)
            .where(audit_log.c.actor == actor, audit_log.c.action.like("alert_%"))
            .order_by(audit_log.c.id)
        ).all()
    return [(row.action, row.detail) for row in rows]


def delivery_states(db: Database, alert_id: int) -> List[str]:
    with db.engine.connect() as connection:
        return sorted(
            connection.execute(
                sa.select(alert_deliveries.c.state).where(alert_deliveries.c.alert_id == alert_id)
            ).scalars()
        )


# --- job alerts ---------------------------------------------------------------------------------


def test_the_alerts_page_counts_the_residents_who_get_job_alerts(console):
    supervisor = signed_in(console, "supervisor")
    before = int(re.search(r"(\d+) residents? gets?", supervisor.get("/console/alerts").text).group(1))
    resident = f"sms-{uuid.uuid4().hex[:12]}"
    rows = [
        dict(sender_id=resident, channel="sms", language="en", department="Public Works", keyword=""),
        dict(sender_id=resident, channel="sms", language="en", department="", keyword="driver"),
        dict(
            sender_id=f"webchat-{uuid.uuid4().hex[:12]}",
            channel="webchat",
            language="es",
            department="",
            keyword="chofer",
        ),
    ]
    with console.db.engine.begin() as connection:
        connection.execute(job_subscriptions.insert(), [dict(row, created_at=utcnow()) for row in rows])
    page = supervisor.get("/console/alerts").text
    assert f"{before + 2} residents get a message when the city posts a new job" in page  # residents, not subscriptions


# --- refused below supervisor -------------------------------------------------------------------


def test_agents_are_refused_every_alerts_page_and_form(console):
    supervisor = signed_in(console, "supervisor")
    alert_id = alert_id_of(supervisor.post("/console/alerts", **new_alert()))
    agent = signed_in(console, "agent")
    for path in (
        "/console/alerts",
        "/console/alerts/new",
        f"/console/alerts/{alert_id}",
        f"/console/alerts/{alert_id}/edit",
        f"/console/alerts/{alert_id}/stream",
    ):
        page = agent.get(path)
        assert page.status_code == 403 and REFUSED in page.text, path
        assert "Your account has the agent role" in page.text and STORM not in page.text
        api = agent.get(path, headers={"Accept": "application/json"})
        assert api.status_code == 403 and api.json()["error"].startswith(REFUSED), path
    assert agent.get(f"/console/api/alerts/{alert_id}", headers={"Accept": "application/json"}).status_code == 403
    forms = {
        "/console/alerts": new_alert(),
        f"/console/alerts/{alert_id}/edit": {**new_alert(text_en="Changed."), "revision": "1"},
        f"/console/alerts/{alert_id}/approve": {"revision": "1"},
        f"/console/alerts/{alert_id}/send": {"revision": "1"},
        f"/console/alerts/{alert_id}/cancel": {},
        f"/console/alerts/{alert_id}/resume": {},
    }
    for path, data in forms.items():  # with the right CSRF token: the role is what is missing
        answer = agent.post(path, **data)
        assert answer.status_code == 403 and REFUSED in answer.text, path
    assert 'href="/console/alerts"' not in agent.get("/console").text  # no link to what they cannot open
    assert '<a href="/console/alerts">Alerts</a>' in supervisor.get("/console").text
    assert audited(console.db, agent.username) == []
    with console.db.engine.connect() as connection:
        (row,) = connection.execute(sa.select(alerts)).all()
    assert (row.state, row.text, row.approved_by) == ("draft", STORM, None)  # nothing changed it


def test_without_a_session_the_alerts_pages_send_you_to_sign_in(console):
    anonymous = Staff(console.url, "nobody")
    answer = anonymous.get("/console/alerts")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=/console/alerts"
    assert anonymous.client.post("/console/alerts", data=new_alert()).status_code == 303
    assert anonymous.get("/console/alerts", headers={"Accept": "application/json"}).status_code == 401


# --- two supervisors over HTTP ------------------------------------------------------------------


def test_the_author_cannot_approve_or_send_and_a_change_voids_the_approval(console):
    ana, bo = signed_in(console, "supervisor"), signed_in(console, "supervisor")
    tag = uuid.uuid4().hex[:6]
    add_residents(
        [
            Resident(f"sms-{tag}-1", "sms", f"+1555{random.randint(1000000, 9999999)}"),
            Resident(f"sms-{tag}-2", "sms", f"+1555{random.randint(1000000, 9999999)}", language="es"),
            Resident(f"tg-{tag}", "telegram", str(random.randint(10**9, 2 * 10**9)), (("roads", "west"),)),
        ],
        console.db,
    )
    alert_id = alert_id_of(ana.post("/console/alerts", **new_alert(zone="west", faq="cooling_warming_centers")))
    mine = ana.get(f"/console/alerts/{alert_id}?done=alert_drafted").text
    assert "Draft saved. Nothing is sent until a second supervisor approves it." in mine
    assert "A second supervisor must approve this alert before it can be sent." in mine
    assert f'action="/console/alerts/{alert_id}/approve"' not in mine
    assert f'action="/console/alerts/{alert_id}/send"' not in mine
    assert "No Spanish text: Spanish readers get the English text, framed in Spanish." in mine
    assert "https://311.riverton.example/faq/cooling_warming_centers?lang=es" in mine
    assert (
        '<tr data-channel="sms"><th scope="row">SMS</th><td data-language="en">1</td><td data-language="es">1</td>'
        in mine
    )

    # The author alone cannot send it, nor approve it.
    refused = ana.post(f"/console/alerts/{alert_id}/send", revision="1")
    assert refused.status_code == 409
    assert f"Alert {alert_id} needs a second supervisor&#39;s approval before it is sent. You wrote it" in refused.text
    as_json = ana.client.post(
        f"/console/alerts/{alert_id}/send",
        data={"revision": "1"},
        headers={"Accept": "application/json", "X-CSRF-Token": ana.csrf},
    )
    assert as_json.status_code == 409 and "second supervisor" in as_json.json()["error"]
    approved_by_author = ana.post(f"/console/alerts/{alert_id}/approve", revision="1")
    assert approved_by_author.status_code == 403 and "You wrote alert" in approved_by_author.text
    assert delivery_states(console.db, alert_id) == []

    # The approver reads each language's exact message, then approves what they read.
    api = bo.get(f"/console/api/alerts/{alert_id}", headers={"Accept": "application/json"}).json()["alert"]
    shown = Alert(**{**api, "created_at": None, "updated_at": None, "approved_at": None, "sent_at": None})
    theirs = bo.get(f"/console/alerts/{alert_id}").text
    for language in ("en", "es"):
        message = alert_message(shown, language).replace("'", "&#39;")
        assert f'<pre class="crisis-message" lang="{language}">{message}</pre>' in theirs
    assert f'action="/console/alerts/{alert_id}/approve"' in theirs and "Approve revision 1" in theirs
    assert (
        bo.post(f"/console/alerts/{alert_id}/approve", revision="1")
        .headers["location"]
        .endswith("?done=alert_approved")
    )
    assert "Send to 2 subscribers now" in ana.get(f"/console/alerts/{alert_id}").text

    # A change after the approval voids it; an approval of what was read before is refused.
    assert bo.get(f"/console/alerts/{alert_id}/edit").status_code == 403  # only the author changes it
    form = ana.get(f"/console/alerts/{alert_id}/edit").text
    assert "the approval by" in form and f">{STORM}</textarea>" in form
    changed = ana.post(
        f"/console/alerts/{alert_id}/edit",
        revision="1",
        **new_alert(zone="west", text_es="Tormenta fuerte esta noche: quédese adentro."),
    )
    assert changed.headers["location"] == f"/console/alerts/{alert_id}?done=alert_edited"
    stale = bo.post(f"/console/alerts/{alert_id}/approve", revision="1")
    assert stale.status_code == 409 and "changed since you read it" in stale.text
    assert ana.post(f"/console/alerts/{alert_id}/send", revision="2").status_code == 409
    assert bo.post(f"/console/alerts/{alert_id}/approve", revision="2").status_code == 303
    sent = ana.post(f"/console/alerts/{alert_id}/send", revision="2")
    assert sent.headers["location"] == f"/console/alerts/{alert_id}?done=alert_sent"
    assert delivery_states(console.db, alert_id) == ["pending", "pending"]  # no worker here: they wait
    page = bo.get(f"/console/alerts/{alert_id}").text
    assert 'id="delivery-summary" role="status">0 of 2 finished: 0 sent, 0 failed, 2 pending.' in page

    # Cancel and resume from the page.
    assert bo.post(f"/console/alerts/{alert_id}/cancel").headers["location"].endswith("?done=alert_cancelled")
    assert delivery_states(console.db, alert_id) == ["skipped", "skipped"]
    assert "2 messages were not sent because the alert was cancelled." in ana.get(f"/console/alerts/{alert_id}").text
    assert ana.post(f"/console/alerts/{alert_id}/resume").status_code == 303
    assert delivery_states(console.db, alert_id) == ["pending", "pending"]
    assert ana.post(f"/console/alerts/{alert_id}/resume").status_code == 409

    what = f"alert {alert_id} r1 (warning, weather/west)"
    now = f"alert {alert_id} r2 (warning, weather/west)"
    assert audited(console.db, ana.username) == [
        ("alert_draft", what),
        ("alert_edit", f"{now}, the approval by {bo.username} is void"),
        ("alert_send", f"{now}, approved by {bo.username}"),
        ("alert_resume", now),
    ]
    assert audited(console.db, bo.username) == [
        ("alert_approve", f"{what}, written by {ana.username}"),
        ("alert_approve", f"{now}, written by {ana.username}"),
        ("alert_cancel", f"{now}, its delivery stopped"),
    ]
    audit_page = bo.get("/console/audit").text
    assert f"{now}, approved by {bo.username}" in audit_page and "Tormenta" not in audit_page


def test_bad_alert_input_gets_a_clear_4xx_and_writes_nothing(console):
    ana = signed_in(console, "supervisor")
    refusals = [
        (new_alert(text_en="   "), "The alert has no text."),
        (new_alert(topic="pizza"), "Unknown topic &#39;pizza&#39;"),
        (new_alert(severity="apocalyptic"), "Unknown severity"),
        (new_alert(text_es="x" * 1300), "the alert in &#39;es&#39; is 1300 characters"),
        (new_alert(faq="no_such_answer"), "No FAQ answer &#39;no_such_answer&#39;"),
    ]
    for data, text in refusals:
        answer = ana.post("/console/alerts", **data)
        assert answer.status_code == 400 and text.lower() in answer.text.lower(), (data, answer.text[-2000:])
        assert "<h1>New crisis alert</h1>" in answer.text  # the form again, as typed
    assert ana.client.post("/console/alerts", data=new_alert()).status_code == 403  # no CSRF token
    assert ana.get("/console/alerts/99999").status_code == 404
    assert ana.post("/console/alerts/99999/approve", revision="1").status_code == 404
    alert_id = alert_id_of(ana.post("/console/alerts", **new_alert()))
    assert ana.post(f"/console/alerts/{alert_id}/send").status_code == 400  # which revision was read?
    assert audited(console.db, ana.username) == [("alert_draft", f"alert {alert_id} r1 (warning, weather/north)")]


def test_an_alerts_page_streams_its_progress(console):
    ana = signed_in(console, "supervisor")
    alert_id = alert_id_of(ana.post("/console/alerts", **new_alert()))
    with ana.client.stream("GET", f"/console/alerts/{alert_id}/stream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        event = next(line for line in lines if line.startswith("event:"))
        data = next(line for line in lines if line.startswith("data:"))
    assert event == "event: progress" and '"state": "draft"' in data and '"revision": 1' in data


# --- in chromium, with the whole assistant ------------------------------------------------------


def recipients_shown(page: Page) -> Dict[Tuple[str, str], int]:
    """The recipients table of an alert's page: (channel, language) -> count."""
    counts: Dict[Tuple[str, str], int] = {}
    for row in page.locator("tr[data-channel]").all():
        channel = row.get_attribute("data-channel") or ""
        for cell in row.locator("td[data-language]").all():
            counts[(channel, cell.get_attribute("data-language") or "")] = int(cell.inner_text())
    return counts


def check_accessible(page: Page) -> None:
    violations = serious_violations(page)
    assert not violations, describe(violations)


def received(fake_cloud: Any, chat: TelegramChat, phones: List[Phone], marker: str) -> List[int]:
    """How many messages carrying `marker` the chat and each phone got."""
    counts = [sum(1 for message in chat.sent() if marker in message.get("text", ""))]
    counts += [sum(1 for r in phone.sent_to_me() if marker in str(r.body.get("Body"))) for phone in phones]
    return counts


def test_a_second_supervisor_approves_and_each_subscriber_gets_the_alert_once(
    stack, fake_cloud, console_url, db, page: Page
):
    author, approver = f"ana{next(_names)}", f"bo{next(_names)}"
    make_staff(stack, author, role="supervisor")
    make_staff(stack, approver, role="supervisor")
    marker = f"BOIL-{uuid.uuid4().hex[:6]}"
    text = f"Boil water before drinking until further notice ({marker})."

    # Supervisor A writes the alert.
    sign_in(page, console_url, author)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Crisis alerts")).to_be_visible()
    check_accessible(page)
    page.get_by_role("link", name="Write an alert").click()
    expect(page.get_by_role("heading", name="New crisis alert")).to_be_visible()
    check_accessible(page)
    page.get_by_label("Topic").select_option("water")
    page.get_by_label("Zone").select_option("north")
    page.get_by_label("Emergency", exact=True).check()
    page.get_by_label("Text in English").fill(text)
    screenshot(page, "console-alert-form.png")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Alert #\d+"))).to_be_visible()
    alert_id = int(re.search(r"/console/alerts/(\d+)", page.url).group(1))
    expect(page.locator("#notice")).to_have_text("Draft saved. Nothing is sent until a second supervisor approves it.")
    before = recipients_shown(page)

    # Residents subscribe on their own channels; the draft's page counts them.
    chat, english, spanish = TelegramChat(stack, fake_cloud), Phone(stack, fake_cloud), Phone(stack, fake_cloud)
    assert "alert" in chat.say("send me emergency alerts").lower()
    assert "ALERTS OFF" in english.send("ALERTS ON")
    assert "ALERTAS NO" in spanish.send("ALERTAS SI")
    page.reload()
    after = recipients_shown(page)
    grew = {key: after.get(key, 0) - before.get(key, 0) for key in set(after) | set(before)}
    assert {key: n for key, n in grew.items() if n} == {
        ("telegram", "en"): 1,
        ("telegram", "all"): 1,
        ("sms", "en"): 1,
        ("sms", "es"): 1,
        ("sms", "all"): 2,
    }

    # A sees exactly what goes out, and cannot send it alone.
    expect(page.locator("#needs-approval")).to_contain_text("A second supervisor must approve this alert")
    expect(
        page.get_by_text("No Spanish text: Spanish readers get the English text, framed in Spanish.")
    ).to_be_visible()
    expect(page.locator("pre[lang='es']")).to_contain_text(f"Ciudad de Riverton, EMERGENCIA (zona Norte): {text}")
    expect(page.get_by_role("button", name=re.compile("^Send"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    csrf = page.locator("body").get_attribute("data-csrf")
    forced = page.request.post(
        f"{console_url}/console/alerts/{alert_id}/send", form={"csrf_token": csrf, "revision": "1"}
    )
    assert forced.status == 409 and "needs a second supervisor" in forced.text()
    approved_alone = page.request.post(
        f"{console_url}/console/alerts/{alert_id}/approve", form={"csrf_token": csrf, "revision": "1"}
    )
    assert approved_alone.status == 403
    check_accessible(page)
    screenshot(page, "console-alert-draft.png")
    time.sleep(1.0)
    assert received(fake_cloud, chat, [english, spanish], marker) == [0, 0, 0]

    # Supervisor B, in another browser, reads it and approves.
    other = page.context.browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        second = other.new_page()
        second.set_default_timeout(15_000)
        sign_in(second, console_url, approver)
        second.goto(f"{console_url}/console/alerts")
        second.locator(f"tr[data-alert='{alert_id}']").get_by_role("link").click()
        expect(second.locator("pre[lang='en']")).to_contain_text(text)
        expect(second.locator("pre[lang='es']")).to_contain_text(text)
        check_accessible(second)
        second.get_by_role("button", name="Approve revision 1").click()
        expect(second.locator("#notice")).to_have_text("Approved. Any supervisor can send it now.")
    finally:
        other.close()

    # A's open page learns of the approval by itself; A sends; the delivery shows live.
    send = page.get_by_role("button", name=re.compile(r"^Send to \d+ subscribers? now$"))
    expect(send).to_be_visible(timeout=20_000)
    send.click()
    expect(page.locator("#alert-state")).to_have_text(
        f"Delivered: approved by {approver}, sent by {author}", timeout=90_000
    )
    expect(page.locator("td[data-count='all:pending']")).to_have_text("0")
    check_accessible(page)
    screenshot(page, "console-alert-delivered.png")

    # Each subscriber got it exactly once, in their language; a later worker round sends nothing more.
    fake_cloud.wait_for(lambda _: received(fake_cloud, chat, [english, spanish], marker) == [1, 1, 1], timeout=30)
    time.sleep(6.0)
    assert received(fake_cloud, chat, [english, spanish], marker) == [1, 1, 1]
    (spanish_sms,) = [r for r in spanish.sent_to_me() if marker in str(r.body.get("Body"))]
    assert spanish_sms.body["Body"].startswith("Ciudad de Riverton, EMERGENCIA (zona Norte):")
    what = f"alert {alert_id} r1 (emergency, water/north)"
    assert audited(db, author) == [("alert_draft", what), ("alert_send", f"{what}, approved by {approver}")]
    assert audited(db, approver) == [("alert_approve", f"{what}, written by {author}")]


# --- on the city's Facebook Page ----------------------------------------------------------------


@pytest.fixture(scope="module")
def page_console(tmp_path_factory: pytest.TempPathFactory, fake_cloud: Any) -> Iterator[Tuple[Console, Any]]:
    """A console and a worker on one database, with the Page's settings pointing at the fake Graph API."""
    env = {
        "CONSOLE_SIGNIN_ATTEMPTS": "1000",
        "PUBLIC_URL": "https://311.riverton.example",
        "MESSENGER_PAGE_ACCESS_TOKEN": MESSENGER_PAGE_ACCESS_TOKEN,
        "MESSENGER_PAGE_ID": MESSENGER_PAGE_ID,
        "META_GRAPH_API_BASE_URL": fake_cloud.graph_base_url,
        "ALERT_RETRY_BASE_SECONDS": "0.5",
        "OPEN311_URL": "http://127.0.0.1:9/open311/v2",  # no back office: the worker's alerts are what is tested
    }
    with console_alone(tmp_path_factory.mktemp("console-alerts-page"), env) as running:
        worker = worker_process(running.config)
        worker.start()
        try:
            yield running, worker
        finally:
            worker.stop()


def page_posts(fake_cloud: Any) -> List[Any]:
    return [r for r in fake_cloud.calls("feed") if r.method == "POST"]


def listed_page_post(member: Staff, alert_id: int) -> str:
    """What the alerts list says of an alert's Facebook Page post (its row's cell, as markup)."""
    listed = member.get("/console/alerts").text
    row = re.search(rf'<tr data-alert="{alert_id}">.*?<td class="page-post">(.*?)</td></tr>', listed, re.S)
    assert row, listed
    return row.group(1)


def test_the_page_choice_is_hidden_and_refused_without_the_pages_settings(console):
    ana = signed_in(console, "supervisor")
    assert 'name="page"' not in ana.get("/console/alerts/new").text
    refused = ana.post("/console/alerts", **new_alert(page="yes"))
    assert refused.status_code == 400 and "cannot be published on the Facebook Page" in refused.text
    assert "MESSENGER_PAGE_ACCESS_TOKEN and MESSENGER_PAGE_ID" in refused.text


def test_an_alert_is_posted_on_the_page_once_after_the_approval_and_a_500_is_retried(
    page_console, fake_cloud, page: Page
):
    console, worker = page_console
    fake_cloud.clear()
    ana, bo = signed_in(console, "supervisor"), signed_in(console, "supervisor")
    assert 'name="page" value="yes"' in ana.get("/console/alerts/new").text
    alert_id = alert_id_of(
        ana.post(
            "/console/alerts",
            **new_alert(text_es="Tormenta fuerte esta noche.", faq="cooling_warming_centers", page="yes"),
        )
    )
    draft = ana.get(f"/console/alerts/{alert_id}").text
    assert "Posted once it is approved and sent." in draft and "Tormenta fuerte esta noche." in draft
    assert "Posted once it is approved and sent." in listed_page_post(ana, alert_id)
    assert ana.post(f"/console/alerts/{alert_id}/send", revision="1").status_code == 409  # the author alone
    assert bo.post(f"/console/alerts/{alert_id}/approve", revision="1").status_code == 303
    time.sleep(3.0)  # a few worker rounds: an approved draft is not posted
    assert page_posts(fake_cloud) == []

    fake_cloud.fail_next("feed", 1)  # Meta's temporary error, HTTP 500: retried by the worker
    assert ana.post(f"/console/alerts/{alert_id}/send", revision="1").status_code == 303
    fake_cloud.wait_for(lambda _: len(page_posts(fake_cloud)) == 2, timeout=30)
    failed, posted = page_posts(fake_cloud)
    assert failed.body == posted.body and posted.path == f"/graph/v21.0/{MESSENGER_PAGE_ID}/feed"
    english, spanish = posted.body["message"].split("\n\n")
    assert STORM in english and spanish.startswith("Ciudad de Riverton, AVISO (zona Norte): Tormenta fuerte")
    assert posted.body["link"] == "https://311.riverton.example/faq/cooling_warming_centers"

    def shown() -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = bo.get(f"/console/alerts/{alert_id}").text
            if "Published" in text:
                return text
            time.sleep(0.3)
        raise AssertionError("the page never said the post was published")

    page_text = shown()  # the post id is read once the page says it is published
    with console.db.engine.connect() as connection:
        (post_id,) = connection.execute(sa.select(alert_page_posts.c.post_id)).scalars().all()
    assert f'post <a href="https://www.facebook.com/{post_id}">{post_id}</a>' in page_text
    assert f'post <a href="https://www.facebook.com/{post_id}">{post_id}</a>' in listed_page_post(bo, alert_id)
    api = bo.get(f"/console/api/alerts/{alert_id}", headers={"Accept": "application/json"}).json()
    assert api["page_post"]["post_id"] == post_id and api["page_post"]["attempts"] == 2

    worker.stop()  # a restart posts nothing again
    worker.start()
    time.sleep(6.0)
    assert len(page_posts(fake_cloud)) == 2
    what = f"alert {alert_id} r1 (warning, weather/north), also on the Facebook Page"
    assert audited(console.db, ana.username) == [
        ("alert_draft", what),
        ("alert_send", f"{what}, approved by {bo.username}"),
    ]
    assert console.audit("(worker)")[-1] == ("alert_page_published", f"alert {alert_id}, post {post_id}")

    # The page that shows the post, and the form with the choice, in chromium: axe-core clean.
    sign_in(page, console.url, bo.username)
    page.goto(f"{console.url}/console/alerts/{alert_id}")
    expect(page.locator("#page-post").get_by_role("link", name=post_id)).to_be_visible()
    check_accessible(page)
    page.goto(f"{console.url}/console/alerts")
    expect(page.locator(f'tr[data-alert="{alert_id}"] td.page-post').get_by_role("link", name=post_id)).to_be_visible()
    check_accessible(page)
    page.goto(f"{console.url}/console/alerts/new")
    expect(page.get_by_label("Also publish it on the city's Facebook Page")).to_be_visible()
    check_accessible(page)


def test_a_permanent_refusal_is_shown_on_the_alerts_page_as_it_happens(page_console, fake_cloud, page: Page):
    console, _ = page_console
    fake_cloud.clear()
    ana, bo = signed_in(console, "supervisor"), signed_in(console, "supervisor")
    alert_id = alert_id_of(ana.post("/console/alerts", **new_alert(page="yes")))
    assert bo.post(f"/console/alerts/{alert_id}/approve", revision="1").status_code == 303
    sign_in(page, console.url, ana.username)
    page.goto(f"{console.url}/console/alerts/{alert_id}")
    expect(page.locator("#page-post")).to_contain_text("Posted once it is approved and sent.")
    fake_cloud.graph_failure = (
        400,
        {"error": {"message": "(#200) Requires pages_manage_posts permission", "type": "OAuthException", "code": 200}},
    )
    fake_cloud.fail_next("feed", 1)
    assert bo.post(f"/console/alerts/{alert_id}/send", revision="1").status_code == 303
    fake_cloud.wait_for(lambda _: len(page_posts(fake_cloud)) == 1, timeout=30)
    deadline = time.monotonic() + 20
    while "Not published" not in (text := ana.get(f"/console/alerts/{alert_id}").text):
        assert time.monotonic() < deadline, "the failure was never shown"
        time.sleep(0.3)
    assert "Not published after 1 attempt: GraphSendError" in text and "pages_manage_posts" in text
    listed = listed_page_post(ana, alert_id)
    assert "Not published after 1 attempt: GraphSendError" in listed and "pages_manage_posts" in listed
    expect(page.locator("#page-post [role=alert]")).to_contain_text("pages_manage_posts", timeout=20_000)  # live
    check_accessible(page)
    time.sleep(3.0)
    assert len(page_posts(fake_cloud)) == 1  # not tried again
