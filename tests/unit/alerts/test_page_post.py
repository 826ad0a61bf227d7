"""Alerts on the city's Facebook Page (bot.alerts.page_post, bot.alerts.delivery.page), against the fake Graph API.

Posted once, only after the two-person approval; a 500 retried, a permanent
refusal reported, a claim that outlived its job never posted again; refused
when the Page is not set up. Each case on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any, Iterator, List

import pytest
import sqlalchemy as sa

from bot.alerts import approval, page_post, store
from bot.alerts.approval import Conflict, Refused
from bot.alerts.delivery.page import close_client, feed_body, publish_due
from bot.alerts.delivery.settings import DeliverySettings
from bot.alerts.store import AlertContent, AlertError
from bot.db.engine import database, utcnow
from bot.db.schema import alert_page_posts, audit_log
from tests.support.alerts import add_accounts
from tests.support.databases import own_database
from tests.support.fake_cloud import FakeCloud, RecordedRequest

FAST = DeliverySettings(max_attempts=3, retry_base_seconds=0.0, retry_max_seconds=0.0)
PAGE_ID = "104000000000001"
STORM = "Severe storm tonight: stay indoors."
TORMENTA = "Tormenta fuerte esta noche: quédese adentro."
PERMANENT = (
    400,
    {"error": {"message": "(#200) Requires pages_manage_posts permission", "type": "OAuthException", "code": 200}},
)


@pytest.fixture(params=["sqlite", "postgresql"])
def page(request: pytest.FixtureRequest, tmp_path, monkeypatch, fake_cloud: FakeCloud) -> Iterator[FakeCloud]:
    """A fresh database, two supervisors and an admin, and the Page's settings pointing at the fake Graph API."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "alerts-page-test-key")
    monkeypatch.setenv("MESSENGER_PAGE_ACCESS_TOKEN", "PAGE-TOKEN")
    monkeypatch.setenv("MESSENGER_PAGE_ID", PAGE_ID)
    monkeypatch.setenv("META_GRAPH_API_BASE_URL", fake_cloud.graph_base_url)
    fake_cloud.clear()
    with own_database(request.param, monkeypatch, "citybot_test_page_posts"):
        add_accounts("ana", "bo")
        add_accounts("root", role="admin")
        yield fake_cloud


def posts(cloud: FakeCloud) -> List[RecordedRequest]:
    return [r for r in cloud.calls("feed") if r.method == "POST"]


def storm(**changes: Any) -> AlertContent:
    content = AlertContent("weather", "north", "warning", STORM, {"es": TORMENTA}, None, True)
    return replace(content, **changes)


async def approved(**changes: Any) -> store.Alert:
    alert = await approval.draft_alert(storm(**changes), "ana")
    return await approval.approve_alert(alert.id, "bo", alert.revision)


def audit() -> List[Any]:
    with database().engine.begin() as connection:
        return [
            (r.actor, r.action, r.detail) for r in connection.execute(sa.select(audit_log).order_by(audit_log.c.id))
        ]


async def publish() -> int:
    try:
        return await publish_due(FAST)
    finally:
        await close_client()


async def test_published_once_after_the_approval_and_never_before(page):
    draft = await approval.draft_alert(storm(faq_url="https://city.example/faq/cooling_centers"), "ana")
    assert await publish() == 0 and posts(page) == []  # a draft is not posted
    with pytest.raises(Conflict, match="needs a second supervisor's approval"):
        await approval.send_alert(draft.id, "ana", 1)  # the author alone
    with pytest.raises(Refused):
        await approval.approve_alert(draft.id, "ana", 1)
    await approval.approve_alert(draft.id, "bo", 1)
    assert await publish() == 0 and posts(page) == []  # approved is not sent
    await approval.send_alert(draft.id, "ana", 1)

    assert await publish() == 1
    assert await publish() == 0  # a second round (or a restarted worker) finds nothing to post
    [call] = posts(page)
    assert call.path == f"/graph/v21.0/{PAGE_ID}/feed"
    assert call.headers["Authorization"] == "Bearer PAGE-TOKEN"
    assert call.body["link"] == "https://city.example/faq/cooling_centers"
    english, spanish = call.body["message"].split("\n\n")
    assert STORM in english and "WARNING" in english and "North" in english
    assert TORMENTA in spanish and "AVISO" in spanish and "Norte" in spanish

    status = await store.alert_status(draft.id)
    post = status.page_post
    assert post.state == page_post.PUBLISHED and post.attempts == 1 and post.post_id.startswith(f"{PAGE_ID}_")
    assert post.url == f"https://www.facebook.com/{post.post_id}"
    assert status.as_dict()["page_post"]["post_id"] == post.post_id
    lines = audit()
    assert ("ana", "alert_draft", f"alert {draft.id} r1 (warning, weather/north), also on the Facebook Page") in lines
    assert ("(worker)", "alert_page_published", f"alert {draft.id}, post {post.post_id}") in lines


async def test_an_alert_without_the_choice_is_not_posted_and_a_language_without_text_is_left_out(page):
    plain = await approved(publish_to_page=False)
    await approval.send_alert(plain.id, "ana")
    english_only = await approved(translations={})
    await approval.send_alert(english_only.id, "ana")
    assert await publish() == 1
    [call] = posts(page)
    assert "\n\n" not in call.body["message"] and "link" not in call.body
    assert (await store.alert_status(plain.id)).page_post is None


async def test_a_500_is_retried_then_published(page):
    alert = await approved()
    await approval.send_alert(alert.id, "ana")
    page.fail_next("feed", 1)  # Meta's temporary error, HTTP 500
    assert await publish() == 0
    post = await page_post.page_post(alert.id)
    assert (post.state, post.attempts) == (page_post.PENDING, 1) and "HTTP 500" in post.last_error
    assert await publish() == 1
    post = await page_post.page_post(alert.id)
    assert (post.state, post.attempts, post.last_error) == (page_post.PUBLISHED, 2, None)
    assert len(posts(page)) == 2  # the failed call and the one that worked


async def test_failures_past_the_attempts_and_permanent_refusals_are_reported(page):
    retried = await approved()
    await approval.send_alert(retried.id, "ana")
    page.fail_next("feed", 5)
    for _ in range(4):
        await publish()
    post = await page_post.page_post(retried.id)
    assert (post.state, post.attempts) == (page_post.FAILED, FAST.max_attempts) and "HTTP 500" in post.last_error

    refused = await approved()
    await approval.send_alert(refused.id, "ana")
    page.clear()
    page.graph_failure = PERMANENT
    page.fail_next("feed", 1)
    assert await publish() == 0
    post = await page_post.page_post(refused.id)
    assert (post.state, post.attempts) == (page_post.FAILED, 1) and "pages_manage_posts" in post.last_error
    assert len(posts(page)) == 1  # never tried again
    assert any(a == "alert_page_failed" and f"alert {refused.id}, failed" in d for _, a, d in audit())


async def test_a_claim_that_outlived_its_job_is_never_posted_again(page):
    alert = await approved()
    await approval.send_alert(alert.id, "ana")
    claimed = await store.run(lambda c: page_post.claim(c, alert.id, "dead-job", 60))
    assert claimed is not None
    assert await publish() == 0  # still claimed by the (dead) job: nobody else posts it
    past = utcnow() - timedelta(seconds=1)
    await store.run(lambda c: c.execute(alert_page_posts.update().values(claimed_until=past)))
    assert await publish() == 0  # the restarted worker: unconfirmed, not posted
    post = await page_post.page_post(alert.id)
    assert post.state == page_post.UNCONFIRMED and posts(page) == []
    late = await store.run(lambda c: page_post.record(c, alert.id, "dead-job", page_post.PUBLISHED, post_id="x"))
    assert late is None  # the dead job's answer, had it come, changes nothing


async def test_an_alert_sent_without_approval_is_not_posted_and_says_why(page):
    alert = await approval.send_new_without_approval(storm(), "root")
    assert await publish() == 0 and posts(page) == []
    post = await page_post.page_post(alert.id)
    assert post.state == page_post.FAILED and "without a second supervisor's approval" in post.last_error
    assert any(a == "alert_send_unapproved" and "so not on the Facebook Page" in d for _, a, d in audit())


async def test_a_cancelled_alert_is_not_posted_until_resumed(page, monkeypatch):
    from tests.support.residents import Resident, add_residents

    add_residents([Resident("sms-1", "sms", "+15550000001")])
    alert = await approved()
    await approval.send_alert(alert.id, "ana")
    await approval.cancel_alert(alert.id, "bo")
    assert await publish() == 0 and posts(page) == []
    await approval.resume_alert(alert.id, "bo")
    assert await publish() == 1


async def test_without_the_pages_settings_the_choice_is_refused(page, monkeypatch):
    monkeypatch.delenv("MESSENGER_PAGE_ID")
    with pytest.raises(AlertError, match="Facebook Page is not set up .*MESSENGER_PAGE_ID") as refused:
        await approval.draft_alert(storm(), "ana")
    assert refused.value.status == 400
    draft = await approval.draft_alert(storm(publish_to_page=False), "ana")
    with pytest.raises(AlertError, match="Facebook Page is not set up"):
        await approval.edit_draft(draft.id, "ana", 1, storm())
    assert await publish() == 0


def test_the_feed_body():
    alert = store.Alert(1, "water", "all", "info", "Boil water.", "ana", utcnow(), store.QUEUED)
    assert feed_body(alert) == {"message": page_post.page_message(alert)}
    assert "Boil water." in feed_body(alert)["message"]


def run_cli(capsys, *argv: str) -> Any:
    from bot.alerts.cli import main

    code = main(list(argv))
    printed = capsys.readouterr()
    return code, printed.out + printed.err


STORM_OPTIONS = ["--topic", "weather", "--zone", "north", "--severity", "warning", "--text", STORM]


def test_the_cli_flag_publishes_after_the_approval_and_status_shows_the_post(page, capsys, monkeypatch):
    monkeypatch.setenv("ALERT_RETRY_BASE_SECONDS", "0")
    code, out = run_cli(capsys, "create", *STORM_OPTIONS, "--text-es", TORMENTA, "--page", "--by", "ana")
    assert code == 0, out
    assert "The city's Facebook Page will show, once it is approved and sent:" in out and TORMENTA in out
    code, out = run_cli(capsys, "status", "1")
    assert "Facebook Page: posted once it is approved and sent" in out and posts(page) == []
    code, out = run_cli(capsys, "send", "1", "--by", "ana", "--yes", "--quiet")
    assert code == 2 and posts(page) == []  # the author alone
    assert run_cli(capsys, "approve", "1", "--by", "bo", "--yes")[0] == 0
    page.fail_next("feed", 1)
    code, out = run_cli(capsys, "send", "1", "--by", "ana", "--yes", "--quiet")
    assert code == 0, out
    post = asyncio.run(page_post.page_post(1))
    assert "Facebook Page: waiting for the worker after 1 attempt(s)" in out and "HTTP 500" in out
    code, out = run_cli(capsys, "resume", "1", "--quiet")  # the worker's step, from the command line
    post = asyncio.run(page_post.page_post(1))
    assert code == 0 and post.state == page_post.PUBLISHED and len(posts(page)) == 2
    assert f"post {post.post_id} (https://www.facebook.com/{post.post_id})" in out
    code, out = run_cli(capsys, "status")
    assert "page published" in out


def test_the_cli_refuses_the_flag_without_the_pages_settings(page, capsys, monkeypatch):
    monkeypatch.delenv("MESSENGER_PAGE_ACCESS_TOKEN")
    code, out = run_cli(capsys, "create", *STORM_OPTIONS, "--page", "--by", "ana")
    assert code == 2 and "cannot be published on the Facebook Page" in out and "MESSENGER_PAGE_ACCESS_TOKEN" in out
    assert asyncio.run(store.list_alerts()) == []


@pytest.fixture
def silent_graph(monkeypatch) -> Iterator[str]:
    """A Graph API that reads each request and hangs up without answering (as a dropped connection does)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v21.0"
    listener.close()


async def test_a_call_that_got_no_answer_is_unconfirmed_and_one_never_sent_is_retried(page, silent_graph, monkeypatch):
    alert = await approved()
    await approval.send_alert(alert.id, "ana")
    from bot.process.procs import free_port

    monkeypatch.setenv("META_GRAPH_API_BASE_URL", f"http://127.0.0.1:{free_port()}/v21.0")  # nobody listens
    assert await publish() == 0
    post = await page_post.page_post(alert.id)
    assert (post.state, post.attempts) == (page_post.PENDING, 1) and "ConnectError" in post.last_error

    monkeypatch.setenv("META_GRAPH_API_BASE_URL", silent_graph)  # the request left: it may have been posted
    assert await publish() == 0
    post = await page_post.page_post(alert.id)
    assert (post.state, post.attempts) == (page_post.UNCONFIRMED, 2)
    assert any(dropped in post.last_error for dropped in ("RemoteProtocolError", "ReadError")), post.last_error
    monkeypatch.setenv("META_GRAPH_API_BASE_URL", page.graph_base_url)
    assert await publish() == 0 and posts(page) == []  # not posted again on its own
