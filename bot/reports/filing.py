"""Submit a confirmed report and tell the resident what happens next.

The report goes into the outbox first (so it is never lost), then one delivery
attempt is made at once; if the back office is slow or down, the worker keeps
trying and messages the resident when the city's id arrives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from bot.catalog import City
from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, ServiceRequest
from bot.open311.parse import parse_datetime
from bot.reports import outbox
from bot.reports.draft import ReportDraft
from bot.reports.outbox import AWAITING_ID, FILED, REJECTED, OutboxItem
from bot.reports.status import format_day
from bot.reports.updates.store import subscribe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A stored report after its first delivery attempt, and the request if it was filed."""

    item: OutboxItem
    request: Optional[ServiceRequest]


async def submit(draft: ReportDraft, sender_id: Optional[str], client: Open311Client) -> Submission:
    """Store the report, try to deliver it now, and follow the request once it is filed."""
    # Stored already claimed: the worker could otherwise take it first, and the
    # resident would be told the back office is not answering when it is.
    item = await outbox.enqueue(draft, sender_id, claim_for=outbox.CLAIM_SECONDS)
    item = await outbox.attempt(item, client)
    request = None
    if item.state == FILED and item.service_request_id:
        try:
            request = await client.get_request(item.service_request_id)
        except Open311Error as error:
            logger.info("could not read back %s: %s", item.service_request_id, error)
        if request is not None:
            if sender_id:
                await subscribe(sender_id, request)
            await outbox.mark_told(item.reference)
    elif item.state == REJECTED:
        await outbox.mark_told(item.reference)
    return Submission(item, request)


def time_frame(request: Optional[ServiceRequest], service_code: str, city: City) -> Optional[str]:
    """The expected time frame: the back office's date, else the catalog's target."""
    expected = parse_datetime(request.expected_datetime) if request and request.expected_datetime else None
    service = city.service(service_code)
    agency = service.agency if service else "The city"
    if expected is not None:
        return f"{agency} expects to have it handled by {format_day(expected)}."
    if service and service.target_days:
        days = "1 business day" if service.target_days == 1 else f"{service.target_days} days"
        return f"{agency} usually handles these within {days}."
    return None


def submission_message(submission: Submission, draft: ReportDraft, city: City) -> str:
    """The confirmation a resident keeps: the reference, and the city's id when there is one."""
    item = submission.item
    what = draft.service_name.lower()
    if item.state == REJECTED:
        reason = item.last_error or "no reason given"
        return (
            f"Sorry, the city's system didn't accept the report ({reason}). "
            "Please call 311 so staff can file it for you."
        )
    if item.state == FILED:
        lines = [
            f"Thank you! Your {what} report has been filed. Your request number is "
            f"{item.service_request_id} (your reference: {item.reference})."
        ]
        frame = time_frame(submission.request, draft.service_code, city)
        if frame:
            lines.append(frame)
        if submission.request and submission.request.service_notice:
            lines.append(submission.request.service_notice)
        lines.append(f'To check on it later, ask me "status of request {item.service_request_id}".')
        return " ".join(lines)
    if item.state == AWAITING_ID:
        return (
            f"Thank you! The city has received your {what} report. Your reference is {item.reference}; "
            "I'll send you the city's request number as soon as it is assigned."
        )
    return (
        f"Thank you! Your {what} report is saved with reference {item.reference}. The city's system "
        "isn't answering right now, so I'll send it as soon as it's back and message you the city's "
        f"request number. You can ask me about {item.reference} any time."
    )
