"""A status change in the back office reaches Telegram and SMS residents once, at the HTTP boundary."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Dict, Optional

import httpx
import pytest
import sqlalchemy as sa

from bot.db.engine import create_engine, sqlite_url
from bot.db.schema import report_outbox
from tests.support.reports import request_number, unique_address
from tests.support.telegram import TelegramChat
from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e

STAFF_KEY = "riverton-dev-key"


def change_status(stack, request_id: str, status: str, notes: str) -> None:
    response = httpx.post(
        f"{stack.effective_open311_url}/requests/{request_id}/status.json",
        data={"api_key": STAFF_KEY, "status": status, "status_notes": notes},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def closed_times(stack) -> Dict[str, Optional[datetime]]:
    """Each filed report's request number and when the worker first heard it closed (the dashboard's time to close)."""
    engine = create_engine(stack.database_url or sqlite_url(stack.var_dir))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(report_outbox.c.service_request_id, report_outbox.c.closed_at).where(
                    report_outbox.c.service_request_id.is_not(None)
                )
            ).all()
    finally:
        engine.dispose()
    return {row.service_request_id: row.closed_at for row in rows}


def file_fallen_tree(say) -> str:
    """File a fallen-tree report through any channel's `say`; return the city's request number."""
    assert "Is it blocking anything?" in say("a tree fell down on my street")
    assert "Where is it?" in say("road")
    assert "describe the problem" in say(unique_address())
    say("a big branch across both lanes")
    assert "Here's your report" in say("skip")
    return request_number(say("yes"))


def test_status_changes_reach_telegram_and_sms_residents_once(stack, fake_cloud):
    chat = TelegramChat(stack, fake_cloud)
    telegram_id = file_fallen_tree(chat.say)
    phone = Phone(stack, fake_cloud)
    sms_id = file_fallen_tree(phone.send)

    def updates_to_chat():
        return [m for m in chat.sent() if m["text"].startswith("Update on your report")]

    change_status(stack, telegram_id, "open", "assigned to a Forestry crew")
    change_status(stack, sms_id, "closed", "closed - fixed")
    fake_cloud.wait_for(lambda _: len(updates_to_chat()) == 1, timeout=30)
    assert telegram_id in updates_to_chat()[0]["text"] and "assigned to a Forestry crew" in updates_to_chat()[0]["text"]
    sms_update = phone.read()
    assert sms_update.startswith("Update on your report") and sms_id in sms_update and "closed - fixed" in sms_update
    closed = closed_times(stack)
    assert closed[sms_id] is not None and closed[telegram_id] is None  # the open one is not closed

    # A restart of the worker repeats nothing; the next change is one more message.
    stack.restart("worker")
    time.sleep(3)
    assert len(updates_to_chat()) == 1 and phone.nothing_received()
    change_status(stack, telegram_id, "closed", "closed - fixed")
    fake_cloud.wait_for(lambda _: len(updates_to_chat()) == 2, timeout=30)
    assert "closed - fixed" in updates_to_chat()[1]["text"]
    again = closed_times(stack)
    assert again[telegram_id] is not None and again[sms_id] == closed[sms_id]


def test_an_opted_out_number_gets_no_status_update(stack, fake_cloud):
    phone = Phone(stack, fake_cloud)
    request_id = file_fallen_tree(phone.send)
    assert phone.send_unanswered("STOP")
    change_status(stack, request_id, "closed", "closed - not city property")
    time.sleep(4)  # several worker rounds (STATUS_POLL_SECONDS=1 in the test stack)
    assert phone.nothing_received()
