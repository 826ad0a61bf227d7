"""The two-person rule of crisis alerts (bot.alerts.approval), on SQLite and PostgreSQL.

A draft is never delivered; its author can neither approve nor send it alone;
a change voids an approval; only real, active supervisors take a step, and
only an admin, saying so, sends without an approval. Every step is audited,
without the alert's text or its recipients.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from bot.alerts import approval, store
from bot.alerts.approval import Conflict, Refused
from bot.alerts.delivery.job import run_delivery
from bot.alerts.delivery.loop import unfinished_alerts
from bot.alerts.delivery.settings import DeliverySettings
from bot.alerts.outgoing import outgoing
from bot.alerts.store import ALL, CANCELLED_NOTE, PENDING, SKIPPED, AlertContent, AlertError
from bot.db.engine import database
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import audit_log
from tests.support.alerts import add_accounts
from tests.support.databases import own_database
from tests.support.residents import Resident, add_residents

FAST = DeliverySettings(max_attempts=2, retry_base_seconds=0.01, lease_seconds=5, idle_poll_seconds=0.05)
STORM = "Severe storm tonight: stay indoors."
TORMENTA = "Tormenta fuerte esta noche: quédese adentro."


@pytest.fixture(params=["sqlite", "postgresql"], autouse=True)
def any_database(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> Iterator[None]:
    """The process-wide database on a fresh SQLite file, or on a fresh PostgreSQL database."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CITYBOT_SECRET_KEY", "alerts-approval-test-key")
    with own_database(request.param, monkeypatch, "citybot_test_alerts"):
        add_accounts("ana", "bo", "cy")
        add_accounts("al", role="agent")
        add_accounts("root", role="admin")
        add_accounts("gone", disabled=True)
        yield


class Recorder:
    """An OutboundSender that keeps what it sent."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    async def send(self, address: str, text: str, buttons: Any = None) -> None:
        self.sent.append((address, text))


def town() -> List[Resident]:
    return [
        Resident("sms-1", "sms", "+15550000001"),
        Resident("sms-2", "sms", "+15550000002", language="es"),
        Resident("tg-3", "telegram", "3003", (("weather", ALL),)),
        Resident("tg-4", "telegram", "3004", (("water", ALL),)),  # another topic
    ]


def audit() -> List[Tuple[str, str, str]]:
    with database().engine.begin() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    return [(row.actor, row.action, row.detail) for row in rows]


def rows_of(alert_id: int) -> Dict[str, Any]:
    with database().engine.begin() as connection:
        found = connection.execute(sa.select(deliveries).where(deliveries.c.alert_id == alert_id)).all()
    return {row.sender_id: row for row in found}


def storm(**changes: Any) -> AlertContent:
    return replace(AlertContent("weather", "north", "warning", STORM), **changes)


async def draft(by: str = "ana", **changes: Any) -> store.Alert:
    return await approval.draft_alert(storm(**changes), by)


async def test_nothing_leaves_before_a_second_supervisor_approves():
    add_residents(town())
    alert = await draft("Ana")
    assert (alert.state, alert.created_by, alert.revision, alert.approved_by) == (store.DRAFT, "ana", 1, None)
    assert rows_of(alert.id) == {} and await unfinished_alerts() == []  # the worker never picks a draft
    telegram = Recorder()
    status = await run_delivery(alert.id, senders={"telegram": telegram, "sms": Recorder()}, settings=FAST)
    assert telegram.sent == [] and status.alert.state == store.DRAFT  # a job leaves a draft alone

    with pytest.raises(Conflict, match="needs a second supervisor's approval before it is sent. You wrote it") as sent:
        await approval.send_alert(alert.id, "ana", 1)
    assert sent.value.status == 409
    with pytest.raises(Conflict, match="needs a second supervisor's approval"):
        await approval.send_alert(alert.id, "bo", 1)  # nor anybody else, before the approval
    with pytest.raises(Refused, match="you wrote alert .*: a second supervisor must approve it") as approved:
        await approval.approve_alert(alert.id, "ana", 1)
    assert approved.value.status == 403
    assert rows_of(alert.id) == {}

    approved_alert = await approval.approve_alert(alert.id, "bo", 1)
    assert (approved_alert.approved_by, approved_alert.state) == ("bo", store.DRAFT)
    with pytest.raises(Conflict, match="approved already, by bo"):
        await approval.approve_alert(alert.id, "cy", 1)
    assert rows_of(alert.id) == {}  # approved is not sent

    queued = await approval.send_alert(alert.id, "ana", 1)  # the author may send it once approved
    assert (queued.state, queued.sent_by, queued.approved_by) == (store.QUEUED, "ana", "bo")
    assert set(rows_of(alert.id)) == {"sms-1", "sms-2", "tg-3"}
    assert {r.language for r in rows_of(alert.id).values()} == {"en", "es"}
    assert await unfinished_alerts() == [alert.id]
    with pytest.raises(Conflict, match="was sent already"):
        await approval.send_alert(alert.id, "bo", 1)
    with pytest.raises(Conflict, match="was sent already"):
        await approval.edit_draft(alert.id, "ana", 1, storm(text="Other text."))

    assert audit() == [
        ("ana", "alert_draft", f"alert {alert.id} r1 (warning, weather/north)"),
        ("bo", "alert_approve", f"alert {alert.id} r1 (warning, weather/north), written by ana"),
        ("ana", "alert_send", f"alert {alert.id} r1 (warning, weather/north), approved by bo"),
    ]


async def test_a_change_voids_the_approval_and_only_the_author_makes_one():
    alert = await draft(translations={"es": TORMENTA})
    await approval.approve_alert(alert.id, "bo", alert.revision)
    with pytest.raises(Refused, match="only its author, ana, can change"):
        await approval.edit_draft(alert.id, "bo", 1, storm(text=STORM + " Really."))
    changed = await approval.edit_draft(
        alert.id, "ana", 1, storm(zone=ALL, severity="emergency", translations={"es": None})
    )
    assert (changed.revision, changed.zone, changed.severity, changed.translations) == (2, ALL, "emergency", {})
    assert changed.approved_by is None and changed.updated_at is not None
    with pytest.raises(Conflict, match="needs a second supervisor's approval"):
        await approval.send_alert(alert.id, "bo", 2)
    # bo read revision 1: what bo approves must be what goes out.
    with pytest.raises(Conflict, match="changed since you read it .*revision 2"):
        await approval.approve_alert(alert.id, "bo", 1)
    with pytest.raises(Conflict, match="changed since you read it"):
        await approval.edit_draft(alert.id, "ana", 1, storm())
    await approval.approve_alert(alert.id, "bo", 2)
    with pytest.raises(Conflict, match="changed since you read it"):
        await approval.send_alert(alert.id, "ana", 1)
    sent = await approval.send_alert(alert.id, "ana", 2)
    assert (sent.state, sent.approved_by, sent.revision) == (store.QUEUED, "bo", 2)
    edit = [line for line in audit() if line[1] == "alert_edit"]
    assert edit == [("ana", "alert_edit", f"alert {alert.id} r2 (emergency, weather/all), the approval by bo is void")]


async def test_only_real_active_supervisors_take_a_step_and_only_an_admin_overrides():
    add_residents(town())
    for name, why in (
        ("nobody", "there is no staff account 'nobody'"),
        ("al", "al has the agent role: only supervisors and administrators may do this"),
        ("gone", "the staff account 'gone' is disabled"),
        ("Not A Name", "is not a staff account"),
    ):
        with pytest.raises(Refused, match=why):
            await draft(name)
    alert = await draft()
    with pytest.raises(Refused, match="agent role"):
        await approval.approve_alert(alert.id, "al", 1)
    with pytest.raises(Refused, match="only administrators may do this"):
        await approval.send_alert(alert.id, "bo", 1, without_approval=True)
    with pytest.raises(Refused, match="only administrators"):
        await approval.send_new_without_approval(storm(), "ana")
    assert [a.id for a in await store.list_alerts()] == [alert.id]  # the refused override wrote nothing

    overridden = await approval.send_alert(alert.id, "root", 1, without_approval=True)
    assert overridden.sent_without_approval and overridden.sent_by == "root" and len(rows_of(alert.id)) == 3
    at_once = await approval.send_new_without_approval(
        AlertContent("water", ALL, "emergency", "Do not drink tap water."), "root"
    )
    assert (
        at_once.created_by == "root"
        and at_once.sent_without_approval
        and set(rows_of(at_once.id))
        == {
            "sms-1",
            "sms-2",
            "tg-4",
        }
    )
    overrides = [line for line in audit() if line[1] == "alert_send_unapproved"]
    assert [actor for actor, _, _ in overrides] == ["root", "root"]
    assert all(d.endswith("sent WITHOUT a second approval (admin override)") for _, _, d in overrides)
    assert "written by ana" in overrides[0][2]
    # An admin is a supervisor too: approving someone else's draft is fine, their own is not.
    mine = await draft("root")
    with pytest.raises(Refused):
        await approval.approve_alert(mine.id, "root", 1)
    await approval.approve_alert(mine.id, "ana", 1)


async def test_a_cancelled_delivery_resumes_and_a_discarded_draft_stays_discarded():
    add_residents(town())
    alert = await draft()
    await approval.approve_alert(alert.id, "bo", 1)
    await approval.send_alert(alert.id, "ana", 1)
    cancelled = await approval.cancel_alert(alert.id, "cy")
    assert cancelled.alert.state == store.CANCELLED and cancelled.skipped == 3
    assert {(r.state, r.last_error) for r in rows_of(alert.id).values()} == {(SKIPPED, CANCELLED_NOTE)}
    with pytest.raises(Conflict, match="cancelled already"):
        await approval.cancel_alert(alert.id, "cy")
    sms = Recorder()
    await run_delivery(alert.id, senders={"telegram": Recorder(), "sms": sms}, settings=FAST)
    assert sms.sent == []

    resumed = await approval.resume_alert(alert.id, "bo")
    assert resumed.alert.state == store.QUEUED and resumed.pending == 3
    assert {r.state for r in rows_of(alert.id).values()} == {PENDING}
    done = await run_delivery(alert.id, senders={"telegram": Recorder(), "sms": sms}, settings=FAST)
    assert done.sent == 3 and done.alert.state == store.DONE and len(sms.sent) == 2
    with pytest.raises(Conflict, match="delivered already"):
        await approval.cancel_alert(alert.id, "cy")
    with pytest.raises(Conflict, match="not cancelled"):
        await approval.resume_alert(alert.id, "cy")

    discarded = await draft()
    status = await approval.cancel_alert(discarded.id, "ana")
    assert status.alert.state == store.CANCELLED and status.total == 0
    with pytest.raises(Conflict, match="nothing left to send"):
        await approval.resume_alert(discarded.id, "bo")
    with pytest.raises(Conflict, match="was cancelled"):
        await approval.approve_alert(discarded.id, "bo", 1)
    with pytest.raises(store.NoSuchAlert):
        await approval.cancel_alert(9999, "ana")
    steps = [(actor, action) for actor, action, _ in audit() if action in ("alert_cancel", "alert_resume")]
    assert steps == [("cy", "alert_cancel"), ("bo", "alert_resume"), ("ana", "alert_cancel")]
    assert all(STORM not in detail and "sms-" not in detail and "+1555" not in detail for _, _, detail in audit())


async def test_two_supervisors_at_once_send_it_once_and_approve_it_once():
    add_residents(town())
    for _ in range(3):
        alert = await draft()
        approvals = await asyncio.gather(
            approval.approve_alert(alert.id, "bo", 1), approval.approve_alert(alert.id, "cy", 1), return_exceptions=True
        )
        assert sorted(type(result).__name__ for result in approvals) == ["Alert", "Conflict"], approvals
        sends = await asyncio.gather(
            approval.send_alert(alert.id, "ana", 1), approval.send_alert(alert.id, "bo", 1), return_exceptions=True
        )
        assert sorted(type(result).__name__ for result in sends) == ["Alert", "Conflict"], sends
        assert len(rows_of(alert.id)) == 3  # one delivery per recipient, written once
    assert [action for _, action, _ in audit()].count("alert_send") == 3


async def test_the_approver_reads_each_languages_exact_message_and_who_falls_back():
    add_residents(town())
    alert = await draft()
    found = await outgoing(alert)
    english, spanish = found.copies
    assert (english.language, english.readers, english.falls_back) == ("en", 2, False)
    assert (spanish.language, spanish.readers, spanish.falls_back) == ("es", 1, True)
    assert spanish.message == store.alert_message(alert, "es") and STORM in spanish.message
    assert spanish.message.startswith("Ciudad de Riverton")  # the frame in Spanish, the words in English
    assert found.falling_back == {"es": 1} and found.preview.by_channel == {"sms": 2, "telegram": 1}
    changed = await approval.edit_draft(alert.id, "ana", 1, storm(translations={"es": TORMENTA}))
    spanish = (await outgoing(changed)).copies[1]
    assert not spanish.falls_back and TORMENTA in spanish.message and spanish.sms_segments >= 1
    with pytest.raises(AlertError):
        await approval.edit_draft(alert.id, "ana", 2, storm(text="  "))
