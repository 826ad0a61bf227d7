"""The two-person rule for crisis alerts: a draft, a second supervisor's approval, then sending.

A false alert to a whole city is what crisis communicators fear most, so no
alert leaves on one person's word:

- a supervisor writes a draft (`draft_alert`); nothing delivers a draft. Only
  its author changes it (`edit_draft`); each change is a new revision and voids
  any approval;
- a different supervisor approves the revision they read (`approve_alert`);
  the author never can;
- then any supervisor sends it (`send_alert`): its delivery rows are written
  in the same transaction and the worker delivers them. An admin may send a
  draft nobody approved only by saying so (`without_approval=True`, the CLI's
  `--without-approval`), audited as such;
- any supervisor cancels an alert (a draft is discarded, a delivery stops) and
  resumes a cancelled delivery.

Every name is a real, active staff account with the role its step needs,
checked in the step's transaction, which also writes the step's audit line:
the alert's number, revision and who else took part, never its text or its
recipients. Each step locks the alert's row before it reads its state, so two
supervisors acting at once cannot both send it or approve a text already changed.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.alerts import page_post, store
from bot.alerts.store import (
    CANCELLED,
    CANCELLED_NOTE,
    DONE,
    DRAFT,
    SKIPPED,
    Alert,
    AlertContent,
    AlertError,
    AlertStatus,
)
from bot.db.engine import database, utcnow
from bot.db.schema import alert_deliveries as deliveries
from bot.db.schema import alerts, staff_users
from bot.handoff import roles
from bot.handoff.store import AccountError, check_username, write_audit

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Audit log actions.
DRAFTED = "alert_draft"
EDITED = "alert_edit"
APPROVED = "alert_approve"
SENT = "alert_send"
SENT_UNAPPROVED = "alert_send_unapproved"  # an admin's explicit override
CANCELLED_ACTION = "alert_cancel"
RESUMED = "alert_resume"
RESENT = "alert_resend_unconfirmed"


class Refused(AlertError):
    """The person may not take this step (the author approving, no such supervisor, not an admin)."""

    status = 403


class Conflict(AlertError):
    """The alert is not in a state for this step (not approved, sent already, changed since it was read)."""

    status = 409


def staff_member(connection: Connection, name: Optional[str], needed: str = roles.SUPERVISOR) -> str:
    """The username of an active account with at least the `needed` role; Refused otherwise."""
    what = "an admin" if needed == roles.ADMIN else "a supervisor"
    try:
        username = check_username(name or "")
    except AccountError:
        raise Refused(f"{name or 'nobody'!r} is not a staff account: name {what} by their console username") from None
    row = connection.execute(
        sa.select(staff_users.c.role, staff_users.c.disabled).where(staff_users.c.username == username)
    ).first()
    if row is None:
        raise Refused(f"there is no staff account {username!r}: name {what} by their console username")
    if row.disabled:
        raise Refused(f"the staff account {username!r} is disabled")
    if not roles.allows(row.role, needed):
        raise Refused(f"{username} has the {row.role} role: only {roles.who_may(needed)} may do this")
    return username


def locked_alert(connection: Connection, alert_id: int) -> Alert:
    """The alert, read after taking its row's write lock (held until the transaction ends).

    A write, not a read, comes first: SQLite begins a transaction only at the
    first write, so a read before it could see a state another process is
    changing. PostgreSQL locks the row the same way, and a second step waits.
    """
    touched = connection.execute(alerts.update().where(alerts.c.id == alert_id).values(id=alerts.c.id)).rowcount
    alert = store.load_alert(connection, alert_id) if touched else None
    if alert is None:
        raise store.NoSuchAlert(f"there is no alert {alert_id}")
    return alert


def still_a_draft(alert: Alert, step: str) -> None:
    if alert.state == DRAFT:
        return
    if alert.state == CANCELLED:
        raise Conflict(f"alert {alert.id} was cancelled: it cannot be {step}")
    raise Conflict(f"alert {alert.id} was sent already: it cannot be {step}")


def same_revision(alert: Alert, revision: Optional[int], step: str) -> None:
    """What the person read is what the alert says now (None: the caller showed the current revision)."""
    if revision is not None and revision != alert.revision:
        raise Conflict(
            f"alert {alert.id} changed since you read it (it is at revision {alert.revision} now): "
            f"read it again before you {step} it"
        )


def detail(alert: Alert, *more: str, via: Optional[str] = None) -> str:
    """An audit line's detail: the alert's number and revision, what else matters; never text or recipients."""
    parts = [f"alert {alert.id} r{alert.revision} ({alert.severity}, {alert.topic}/{alert.zone})"]
    if alert.publish_to_page:
        parts.append("also on the Facebook Page")
    parts.extend(more)
    return ", ".join(parts) + (f" [{via}]" if via else "")


async def run(work: Callable[[Connection], T]) -> T:
    return await database().run(work)


def drafted(connection: Connection, content: AlertContent, by: str, via: Optional[str], needed: str) -> Alert:
    """Write a draft by `by` (its author) in the transaction, audited."""
    author = staff_member(connection, by, needed)
    page_post.check_choice(content)
    alert = store.load_alert(connection, store.write_draft(connection, content, author))
    assert alert is not None
    write_audit(connection, author, DRAFTED, detail=detail(alert, via=via))
    return alert


async def draft_alert(content: AlertContent, by: str, via: Optional[str] = None) -> Alert:
    """Write a draft as supervisor `by` (its author); it waits for a second supervisor's approval.

    `via` names the tool in the audit line ("command line").
    """
    alert = await run(lambda connection: drafted(connection, content, by, via, roles.SUPERVISOR))
    logger.info("alert %s drafted by %s", alert.id, alert.created_by)
    return alert


async def edit_draft(
    alert_id: int, by: str, revision: Optional[int], content: AlertContent, via: Optional[str] = None
) -> Alert:
    """Change a draft (its author only): a new revision, and any approval is void."""
    checked = content.checked()
    page_post.check_choice(checked)

    def change(connection: Connection) -> Alert:
        editor = staff_member(connection, by)
        alert = locked_alert(connection, alert_id)
        still_a_draft(alert, "changed")
        if editor != alert.created_by:
            raise Refused(
                f"only its author, {alert.created_by}, can change alert {alert.id}; "
                "cancel it and write another if it must change"
            )
        same_revision(alert, revision, "change")
        connection.execute(
            alerts.update()
            .where(alerts.c.id == alert.id)
            .values(
                topic=checked.topic,
                zone=checked.zone,
                severity=checked.severity,
                text=checked.text,
                faq_url=checked.faq_url,
                publish_to_page=checked.publish_to_page,
                revision=alert.revision + 1,
                updated_at=utcnow(),
                approved_by=None,
                approved_at=None,
            )
        )
        store.write_translations(connection, alert.id, checked.translations)
        changed = store.load_alert(connection, alert.id)
        assert changed is not None
        void = [f"the approval by {alert.approved_by} is void"] if alert.approved_by else []
        write_audit(connection, editor, EDITED, detail=detail(changed, *void, via=via))
        return changed

    return await run(change)


async def approve_alert(alert_id: int, by: str, revision: Optional[int], via: Optional[str] = None) -> Alert:
    """A second supervisor approves the revision they read; never the alert's author."""

    def approve(connection: Connection) -> Alert:
        approver = staff_member(connection, by)
        alert = locked_alert(connection, alert_id)
        still_a_draft(alert, "approved")
        if approver == alert.created_by:
            raise Refused(f"you wrote alert {alert.id}: a second supervisor must approve it (the author never can)")
        same_revision(alert, revision, "approve")
        if alert.approved_by:
            raise Conflict(f"alert {alert.id} is approved already, by {alert.approved_by}")
        connection.execute(
            alerts.update().where(alerts.c.id == alert.id).values(approved_by=approver, approved_at=utcnow())
        )
        write_audit(connection, approver, APPROVED, detail=detail(alert, f"written by {alert.created_by}", via=via))
        approved = store.load_alert(connection, alert.id)
        assert approved is not None
        return approved

    alert = await run(approve)
    logger.info("alert %s approved by %s", alert.id, alert.approved_by)
    return alert


def sent(
    connection: Connection, alert_id: int, by: str, revision: Optional[int], without_approval: bool, via: Optional[str]
) -> Alert:
    """Send the draft in the transaction: checked, marked queued, its delivery rows written, audited."""
    sender = staff_member(connection, by, roles.ADMIN if without_approval else roles.SUPERVISOR)
    alert = locked_alert(connection, alert_id)
    still_a_draft(alert, "sent again")
    same_revision(alert, revision, "send")
    approved = bool(alert.approved_by) and alert.approved_by != alert.created_by
    if not approved and not without_approval:
        yours = (
            " You wrote it: another supervisor approves it, then it can be sent." if sender == alert.created_by else ""
        )
        raise Conflict(f"alert {alert.id} needs a second supervisor's approval before it is sent.{yours}")
    connection.execute(
        alerts.update().where(alerts.c.id == alert.id).values(state=store.QUEUED, sent_by=sender, sent_at=utcnow())
    )
    queued = store.load_alert(connection, alert.id)
    assert queued is not None
    store.fan_out(connection, queued)
    page_post.queue_in(connection, queued, approved)
    if approved:
        write_audit(connection, sender, SENT, detail=detail(alert, f"approved by {alert.approved_by}", via=via))
    else:
        override = f"written by {alert.created_by}, sent WITHOUT a second approval (admin override)"
        if alert.publish_to_page:
            override += ", so not on the Facebook Page"
        write_audit(connection, sender, SENT_UNAPPROVED, detail=detail(alert, override, via=via))
    return queued


async def send_alert(
    alert_id: int,
    by: str,
    revision: Optional[int] = None,
    without_approval: bool = False,
    via: Optional[str] = None,
) -> Alert:
    """Send an approved draft (any supervisor): its delivery rows are written, the worker delivers them.

    `without_approval` (an admin only, said explicitly) sends a draft nobody
    approved; its audit line says so.
    """
    alert = await run(lambda connection: sent(connection, alert_id, by, revision, without_approval, via))
    logger.info("alert %s sent by %s%s", alert.id, alert.sent_by, " without approval" if without_approval else "")
    return alert


async def send_new_without_approval(content: AlertContent, by: str, via: Optional[str] = None) -> Alert:
    """An admin's override in one step: write the alert and send it, nobody approving (both audited)."""

    def write_and_send(connection: Connection) -> Alert:
        draft = drafted(connection, content, by, via, roles.ADMIN)
        return sent(connection, draft.id, by, draft.revision, True, via)

    alert = await run(write_and_send)
    logger.info("alert %s written and sent by %s without approval", alert.id, alert.sent_by)
    return alert


async def cancel_alert(alert_id: int, by: str, via: Optional[str] = None) -> AlertStatus:
    """Discard a draft, or stop a delivery (what is not sent yet is skipped; a resume sends it)."""

    def cancel(connection: Connection) -> AlertStatus:
        member = staff_member(connection, by)
        alert = locked_alert(connection, alert_id)
        if alert.state == CANCELLED:
            raise Conflict(f"alert {alert.id} is cancelled already")
        if alert.state == DONE:
            raise Conflict(f"alert {alert.id} is delivered already: nothing is left to cancel")
        store.cancel_in(connection, alert.id)
        what = "a draft, discarded" if alert.is_draft else "its delivery stopped"
        write_audit(connection, member, CANCELLED_ACTION, detail=detail(alert, what, via=via))
        return store.status_in(connection, alert.id)

    return await run(cancel)


def cancelled_rows(connection: Connection, alert_id: int) -> int:
    return int(
        connection.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.alert_id == alert_id)
            .where(deliveries.c.state == SKIPPED)
            .where(deliveries.c.last_error == CANCELLED_NOTE)
        ).scalar_one()
    )


async def resume_alert(alert_id: int, by: str, via: Optional[str] = None) -> AlertStatus:
    """Carry on a cancelled delivery: what its cancel skipped is sent (a discarded draft stays discarded)."""

    def resume(connection: Connection) -> AlertStatus:
        member = staff_member(connection, by)
        alert = locked_alert(connection, alert_id)
        if alert.state != CANCELLED:
            raise Conflict(f"alert {alert.id} is not cancelled: there is nothing to resume")
        if not cancelled_rows(connection, alert.id):
            raise Conflict(f"alert {alert.id} has nothing left to send (a draft that was discarded is not resumed)")
        store.resume_in(connection, alert)
        write_audit(connection, member, RESUMED, detail=detail(alert, via=via))
        return store.status_in(connection, alert.id)

    return await run(resume)


async def resend_unconfirmed(alert_id: int, by: str, via: Optional[str] = None) -> int:
    """Queue again the deliveries that were on their way at a crash (their residents may get the alert twice)."""

    def requeue(connection: Connection) -> int:
        member = staff_member(connection, by)
        alert = locked_alert(connection, alert_id)
        count = store.requeue_unconfirmed(connection, alert.id)
        if count:
            write_audit(connection, member, RESENT, detail=detail(alert, f"{count} unconfirmed", via=via))
        return count

    return await run(requeue)
