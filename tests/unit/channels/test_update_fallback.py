"""A report update Meta's 24-hour window blocks goes by SMS to the phone the resident gave (outbound.deliver_update).

The real Messenger and Twilio senders send to the fake Graph and Twilio APIs
(tests/support/fake_cloud.py); the database is a fresh SQLite file.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, Iterator, List

import pytest

from bot.channels import outbound
from bot.channels.identity import sender_id_for
from bot.channels.messenger_api import GraphClient, MessengerSender, MessengerSettings
from bot.channels.outbound import NotDeliverable, OutsideWindow, deliver, deliver_update, register_sender
from bot.channels.twilio_rest import TwilioMessages, TwilioSender, TwilioSettings
from bot.db.contacts import note_resident_message, remember_contact, set_opted_out
from bot.db.engine import reset_database, utcnow
from bot.db.fallbacks import SMS, Fallback, remember_fallback
from tests.support.fake_cloud import FakeCloud
from tests.support.messenger import eval_payloads

PAGE_ID = "104938271650213"
PSID = "7001"
CONVERSATION = sender_id_for("messenger", PSID)
PHONE = "+15550102233"
UPDATE = "Update on your report R-ABC123: closed - fixed"


@pytest.fixture
async def senders(tmp_path, monkeypatch, fake_cloud: FakeCloud) -> Iterator[FakeCloud]:
    """Messenger and SMS senders registered as the worker registers them, on a fresh database."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    monkeypatch.setattr(outbound, "_senders", {})
    meta = MessengerSettings("secret", "verify", "PAGE-TOKEN", PAGE_ID, fake_cloud.graph_base_url)
    register_sender(MessengerSender(meta, GraphClient(meta, backoff=0.01)))
    twilio = TwilioSettings("AC1", "token", "+15550100311", api_base_url=fake_cloud.base_url)
    register_sender(TwilioSender(twilio, TwilioMessages(twilio, backoff=0.01)))
    await remember_contact(CONVERSATION, "messenger", PSID)
    fake_cloud.clear()
    yield fake_cloud
    await outbound.close_senders()
    fake_cloud.clear()
    reset_database()


async def last_wrote(ago: timedelta) -> None:
    await note_resident_message(CONVERSATION, utcnow() - ago)


def to_messenger(cloud: FakeCloud) -> List[Dict[str, Any]]:
    return [r.body for r in cloud.calls("messages")]


def texted(cloud: FakeCloud) -> List[Dict[str, Any]]:
    return [r.body for r in cloud.calls("Messages.json")]


async def test_within_the_window_an_update_goes_on_messenger_only(senders):
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=23))
    await deliver_update(CONVERSATION, UPDATE)
    assert [b["message"]["text"] for b in to_messenger(senders)] == [UPDATE] and texted(senders) == []


async def test_after_the_window_an_update_is_texted_to_the_phone_given(senders, caplog):
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=25))
    with caplog.at_level(logging.INFO, logger="bot.channels.outbound"):
        await deliver_update(CONVERSATION, UPDATE)
    assert to_messenger(senders) == []
    ((sms),) = texted(senders)
    assert (sms["To"], sms["From"], sms["Body"]) == (PHONE, "+15550100311", UPDATE)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "bot.channels.outbound")
    assert "+155***2233" in logged and PHONE not in logged


async def test_metas_own_outside_the_window_answer_sends_it_by_sms_too(senders):
    """Our clock said the window was open; Meta's answer (code 10, subcode 2018065, from the eval set) says not."""
    (outside,) = [p for p in eval_payloads() if p["kind"] == "send_api_error" and "2018065" in str(p["body"])]
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=23, minutes=59))
    senders.graph_failure = (400, outside["body"])
    senders.fail_next("messages", 1)
    await deliver_update(CONVERSATION, UPDATE)
    assert len(senders.calls("messages")) == 1 and [b["To"] for b in texted(senders)] == [PHONE]


async def test_without_a_phone_it_is_not_deliverable_as_before(senders):
    await last_wrote(timedelta(hours=25))
    with pytest.raises(OutsideWindow):
        await deliver_update(CONVERSATION, UPDATE)
    assert senders.calls() == []


async def test_a_number_that_texted_stop_gets_nothing(senders):
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=25))
    sms_conversation = sender_id_for(SMS, PHONE)
    await remember_contact(sms_conversation, SMS, PHONE)
    await set_opted_out(sms_conversation, True)
    with pytest.raises(NotDeliverable, match="opted out"):
        await deliver_update(CONVERSATION, UPDATE)
    assert senders.calls() == []


async def test_without_twilio_it_is_not_deliverable(senders, monkeypatch):
    monkeypatch.delitem(outbound._senders, SMS)
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=25))
    with pytest.raises(NotDeliverable, match="not configured"):
        await deliver_update(CONVERSATION, UPDATE)
    assert senders.calls() == []


async def test_only_report_updates_fall_back_and_never_past_an_opt_out(senders):
    """deliver() (job alerts, handoff notices) keeps to the resident's channel; a Messenger STOP ends it all."""
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await last_wrote(timedelta(hours=25))
    with pytest.raises(OutsideWindow):
        await deliver(CONVERSATION, "A new job matches your alert")
    await set_opted_out(CONVERSATION, True)
    with pytest.raises(NotDeliverable):
        await deliver_update(CONVERSATION, UPDATE)
    assert senders.calls() == []


async def test_the_latest_phone_given_is_the_one_used(senders):
    await remember_fallback(CONVERSATION, Fallback(SMS, PHONE))
    await remember_fallback(CONVERSATION, Fallback(SMS, "+15550109999"))
    await last_wrote(timedelta(days=3))
    await deliver_update(CONVERSATION, UPDATE)
    assert [b["To"] for b in texted(senders)] == ["+15550109999"]
