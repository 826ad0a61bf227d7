"""Submit a confirmed report and tell the resident what happens next.

The report goes into the outbox first (so it is never lost), then one delivery
attempt is made at once; if the back office is slow or down, the worker keeps
trying and messages the resident when the city's id arrives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Optional

from bot.catalog import City
from bot.i18n.city import branding, service_text
from bot.i18n.languages import resident_language
from bot.i18n.messages import Messages, messages
from bot.i18n.store import language_for
from bot.open311.client import Open311Client
from bot.open311.models import Open311Error, ServiceRequest
from bot.open311.parse import parse_datetime
from bot.reports import outbox
from bot.reports.draft import ReportDraft
from bot.reports.outbox import AWAITING_ID, FILED, REJECTED, OutboxItem
from bot.reports.status import city_day, service_label
from bot.reports.updates.store import subscribe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A stored report after its first delivery attempt, and the request if it was filed."""

    item: OutboxItem
    request: Optional[ServiceRequest]


async def submit(draft: ReportDraft, sender_id: Optional[str], client: Open311Client) -> Submission:
    """Store the report, try to deliver it now, and follow the request once it is filed.

    A draft without a language (one staff file from the console) is recorded
    in the resident's stored language.
    """
    if not draft.language:
        draft = replace(draft, language=await language_for(sender_id) if sender_id else resident_language(None))
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


def time_frame(request: Optional[ServiceRequest], service_code: str, city: City, texts: Messages) -> Optional[str]:
    """The expected time frame: the back office's date, else the catalog's target."""
    expected = parse_datetime(request.expected_datetime) if request and request.expected_datetime else None
    service = city.service(service_code)
    agency = (
        service_text(texts.language, service_code, "agency", service.agency)
        if service and service.agency
        else texts.text("reports.time_frame.city")
    )
    if expected is not None:
        return texts.text("reports.time_frame.expected", agency=agency, day=city_day(texts, expected, city))
    if service and service.target_days:
        days = texts.plural("reports.time_frame.days", service.target_days)
        return texts.text("reports.time_frame.usual", agency=agency, days=days)
    return None


def submission_message(submission: Submission, draft: ReportDraft, city: City) -> str:
    """The confirmation a resident keeps, in the language the report was made in: the reference, and the city's id."""
    item = submission.item
    texts = messages(item.language)
    what = service_label(texts, draft.service_code, draft.service_name).lower()
    phone = branding(texts.language).phone
    if item.state == REJECTED:
        reason = item.last_error or texts.text("reports.rejected.no_reason")
        return texts.text("reports.rejected", reason=reason, phone=phone)
    if item.state == FILED:
        request_id = item.service_request_id
        lines = [texts.text("reports.filed", service=what, request_id=request_id, reference=item.reference)]
        frame = time_frame(submission.request, draft.service_code, city, texts)
        if frame:
            lines.append(frame)
        if submission.request and submission.request.service_notice:
            lines.append(submission.request.service_notice)  # the back office's notice, as it wrote it
        lines.append(texts.text("reports.filed.check_later", request_id=request_id))
        return " ".join(lines)
    if item.state == AWAITING_ID:
        return texts.text("reports.awaiting_id", service=what, reference=item.reference)
    return texts.text("reports.saved_for_later", service=what, reference=item.reference)
