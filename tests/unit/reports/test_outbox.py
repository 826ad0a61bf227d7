"""The report outbox against real reference Open311 servers: retries, crashes, tokens, slowness."""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

import pytest

from bot.db.engine import reset_database
from bot.open311.client import Open311Client
from bot.process.worker import deliver_due, outcome_text
from bot.reports import outbox
from bot.reports.draft import ReportDraft
from bot.reports.outbox import AWAITING_ID, FILED, PENDING

DRAFT = ReportDraft(
    service_code="WATER_LEAK",
    service_name="Water leak or open hydrant",
    attributes={"source": "fire hydrant"},
    location="5 Hydrant Way",
    description="hydrant gushing",
    contact_text="anonymous",
)


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("OUTBOX_BASE_BACKOFF_SECONDS", "0")
    reset_database()
    yield
    reset_database()


async def copies_in_back_office(client: Open311Client, reference: str) -> int:
    found = await client.list_requests(service_code=DRAFT.service_code)
    return sum(1 for r in found if r.description and f"[ref {reference}]" in r.description)


async def test_a_report_being_filed_now_is_not_the_workers_until_the_claim_runs_out():
    """The filing action stores the report already claimed: the worker cannot take it first."""
    item = await outbox.enqueue(DRAFT, "resident-claimed", claim_for=0.5)
    assert item.reference not in await outbox.due()
    assert await outbox.claim(item.reference) is None
    await asyncio.sleep(0.6)  # the action died before delivering: the worker takes over
    assert item.reference in await outbox.due()


async def test_a_report_waits_while_the_back_office_is_down_and_arrives_once(open311_server_factory):
    server = open311_server_factory.start(name="open311-down")
    item = await outbox.enqueue(DRAFT, "resident-1")
    server.stop()
    async with server.client(timeout=2) as client:
        assert await deliver_due(client) == 1
        stored = await outbox.get(item.reference)
        assert stored.state == PENDING and stored.attempts == 1 and "ConnectError" in stored.last_error
    restarted = open311_server_factory.start(db_path=server.db_path, name="open311-back")
    async with restarted.client() as client:
        for _ in range(3):
            await deliver_due(client)
        stored = await outbox.get(item.reference)
        assert stored.state == FILED and stored.service_request_id
        assert await copies_in_back_office(client, item.reference) == 1
        assert stored.service_request_id in outcome_text(stored)


async def test_a_crash_after_sending_does_not_file_twice(open311_server):
    item = await outbox.enqueue(DRAFT, "resident-2")
    async with open311_server.client() as client:
        # The process sent the report, then died before writing down the answer.
        claimed = await outbox.claim(item.reference)
        await outbox._count_attempt(claimed.reference)
        first = await client.create_request(DRAFT.service_code, **claimed.fields)
        await outbox._save(claimed.reference)  # the claim lapses
        # The next attempt finds the report in the back office instead of filing it again.
        again = await outbox.attempt(await outbox.claim(item.reference), client)
        assert again.state == FILED and again.service_request_id == first.service_request_id
        assert await copies_in_back_office(client, item.reference) == 1


async def test_the_idempotency_key_protects_a_retry_after_a_lost_answer(open311_server):
    item = await outbox.enqueue(DRAFT, "resident-3")
    async with open311_server.client() as client:
        first = await client.create_request(DRAFT.service_code, idempotency_key=item.idempotency_key, **item.fields)
        filed = await outbox.attempt(await outbox.claim(item.reference), client)
        assert filed.service_request_id == first.service_request_id
        assert await copies_in_back_office(client, item.reference) == 1


async def test_a_claimed_report_is_not_delivered_by_a_second_worker(open311_server):
    item = await outbox.enqueue(DRAFT, "resident-4")
    assert await outbox.claim(item.reference) is not None
    assert await outbox.claim(item.reference) is None
    async with open311_server.client() as client:
        assert await deliver_due(client) == 0


async def test_token_flow_polls_until_the_city_assigns_an_id(open311_token_server):
    item = await outbox.enqueue(DRAFT, "resident-5")
    async with open311_token_server.client() as client:
        first = await outbox.attempt(await outbox.claim(item.reference), client)
        assert first.state == AWAITING_ID and first.token and not first.service_request_id
        for _ in range(3):
            await deliver_due(client)
        done = await outbox.get(item.reference)
        assert done.state == FILED and done.service_request_id
        assert (await client.get_request(done.service_request_id)).service_code == DRAFT.service_code


@pytest.fixture
async def black_hole() -> AsyncIterator[str]:
    """A back office that accepts connections and never answers."""

    async def hold(reader, writer):
        await asyncio.sleep(3600)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/open311/v2"
    server.close()


async def test_a_slow_back_office_is_given_up_on_in_time(black_hole):
    item = await outbox.enqueue(DRAFT, "resident-6")
    started = time.monotonic()
    async with Open311Client(black_hole, api_key="k", timeout=1.0) as client:
        result = await outbox.attempt(await outbox.claim(item.reference), client)
    assert time.monotonic() - started < 5
    assert result.state == PENDING and "no answer within 1s" in result.last_error


async def test_following_a_request_twice_is_following_it_once():
    """The filing action and the worker may both subscribe the resident to the request they filed."""
    import asyncio

    import sqlalchemy as sa

    from bot.db.engine import database
    from bot.db.schema import report_subscriptions
    from bot.open311.models import ServiceRequest
    from bot.reports.updates.store import subscribe

    request = ServiceRequest(service_request_id="1042", status="open", status_notes="received")
    await subscribe("resident-1", request)
    await subscribe("resident-1", request)  # already there: no error
    await asyncio.gather(*(subscribe("resident-2", request) for _ in range(5)))

    def rows(connection):
        column = report_subscriptions.c.sender_id
        return connection.execute(sa.select(column).order_by(column)).all()

    assert [row.sender_id for row in await database().run(rows)] == ["resident-1", "resident-2"]


async def test_a_spanish_report_is_filed_as_written_with_the_back_offices_keys_and_its_language(open311_server):
    """The description goes as the resident wrote it; the back office reads the language as a marker."""
    from dataclasses import replace

    from bot.open311.store import RequestStore

    spanish = replace(DRAFT, description="la toma de agua está abierta", language="es")
    item = await outbox.enqueue(spanish, "resident-es")
    assert item.language == "es" and (await outbox.get(item.reference)).language == "es"
    async with open311_server.client() as client:
        filed = await outbox.attempt(await outbox.claim(item.reference), client)
    async with RequestStore(open311_server.db_path) as store:
        request = await store.get(filed.service_request_id)
    assert request.description == f"la toma de agua está abierta [ref {item.reference}] [lang es]"
    assert request.service_code == "WATER_LEAK" and request.attributes == {"source": "fire hydrant"}


async def test_a_report_without_a_language_is_recorded_in_the_residents_stored_one(open311_server):
    """Staff filing from the console give no language: the resident's stored language is recorded."""
    from bot.i18n.store import remember_language
    from bot.reports.filing import submit

    await remember_language("resident-stored", "es")
    async with open311_server.client() as client:
        submission = await submit(DRAFT, "resident-stored", client)
    assert submission.item.language == "es" and submission.item.fields["description"].endswith("[lang es]")
    assert (await outbox.enqueue(DRAFT, None)).language == "en"  # nobody to ask: the city's default
