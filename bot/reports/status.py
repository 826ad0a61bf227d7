"""Find a request number in a message and describe a request's status, in the resident's language.

The back office's own words are shown as it wrote them (its status notes, a
service name the city file does not translate); only the Open311 status
(open, closed) and the sentences around them are translated.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from babel.dates import get_timezone

from bot.catalog import City, load_city
from bot.i18n.city import branding, service_text
from bot.i18n.messages import Messages
from bot.open311.client import Open311Client
from bot.open311.models import ServiceRequest
from bot.open311.parse import parse_datetime
from bot.reports import outbox

# City ids are digits (some with a dash, like 14-01100669); local references
# look like R-7KQ2M.
REQUEST_ID = re.compile(rf"(?<![\w-])({outbox.REFERENCE_FORM}|\d{{3,}}(?:-\d{{2,}})?)(?![\w-])", re.IGNORECASE)
_MAX_ID_LENGTH = 40
# The Open311 statuses, translated as words of a sentence ("is open" / "está abierta").
KNOWN_STATUSES = ("open", "closed")


def city_day(texts: Messages, moment: datetime, city: Optional[City] = None) -> str:
    """The day of `moment` in the city's time zone, as people say it: "Monday, November 30"."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(get_timezone((city or load_city()).timezone))
    return texts.day(moment.date())


def service_label(texts: Messages, service_code: Optional[str], back_office_name: Optional[str]) -> str:
    """A service's name in the resident's language, else the back office's, else "service request"."""
    name = service_text(texts.language, service_code, "name", back_office_name) if service_code else back_office_name
    return name or texts.text("reports.status.generic_service")


def _agency(texts: Messages, request: ServiceRequest) -> Optional[str]:
    """The agency in charge, translated when the city file names the same agency for the service."""
    agency = request.agency_responsible
    service = load_city().service(request.service_code) if request.service_code else None
    if agency and service is not None and service.agency == agency:
        return service_text(texts.language, service.code, "agency", agency)
    return agency


def status_word(texts: Messages, status: Optional[str]) -> str:
    """ "open"/"closed" in the resident's language; another status as the back office wrote it."""
    said = (status or "").lower()
    if said in KNOWN_STATUSES:
        return texts.text(f"reports.status.{said}")
    return said or texts.text("reports.status.unknown")


def extract_request_id(text: str) -> Optional[str]:
    """The request reference in a message, if it holds exactly one."""
    found = {m.group(1).upper() for m in REQUEST_ID.finditer(text or "")}
    return found.pop() if len(found) == 1 else None


def is_plausible_request_id(value: str) -> bool:
    """Whether a value can be a request reference at all (before asking the back office)."""
    return bool(value) and len(value) <= _MAX_ID_LENGTH and REQUEST_ID.fullmatch(value) is not None


def describe_request(request: ServiceRequest, texts: Messages) -> str:
    """A status message: what, where, open or closed, the notes (as written), and dates."""
    what = service_label(texts, request.service_code, request.service_name)
    if request.address:
        what = texts.text("reports.status.where", service=what, address=request.address)
    values = {"request_id": request.service_request_id, "service": what, "status": status_word(texts, request.status)}
    if request.status_notes:
        parts = [texts.text("reports.status.state_notes", notes=request.status_notes, **values)]
    else:
        parts = [texts.text("reports.status.state", **values)]
    updated = parse_datetime(request.updated_datetime) if request.updated_datetime else None
    if updated is not None:
        parts.append(texts.text("reports.status.updated", day=city_day(texts, updated)))
    expected = parse_datetime(request.expected_datetime) if request.expected_datetime else None
    if expected is not None and (request.status or "").lower() != "closed":
        parts.append(texts.text("reports.status.expected", day=city_day(texts, expected)))
    agency = _agency(texts, request)
    if agency:
        parts.append(texts.text("reports.status.agency", agency=agency))
    return " ".join(parts)


def not_found_message(request_id: str, texts: Messages) -> str:
    return texts.text("reports.status.not_found", request_id=request_id)


def malformed_message(texts: Messages) -> str:
    return texts.text("reports.status.malformed")


def unavailable_message(texts: Messages) -> str:
    """The back office cannot be reached for a status lookup."""
    return texts.text("reports.status.unavailable", phone=branding(texts.language).phone)


def is_local_reference(value: str) -> bool:
    """Whether a reference is one the assistant issued (R-7KQ2M) rather than the city's id."""
    return value.upper().startswith("R-")


async def describe_reference(reference: str, client: Open311Client, texts: Messages) -> str:
    """Status by the assistant's own reference: the city's status once filed, else where delivery stands."""
    item = await outbox.get(reference)
    if item is None:
        return not_found_message(reference, texts)
    if item.state == outbox.FILED and item.service_request_id:
        request = await client.get_request(item.service_request_id)
        if request is not None:
            return texts.text(
                "reports.status.with_reference", status=describe_request(request, texts), reference=item.reference
            )
    if item.state == outbox.REJECTED:
        return texts.text(
            "reports.status.reference_rejected", reference=item.reference, phone=branding(texts.language).phone
        )
    return texts.text("reports.status.reference_waiting", reference=item.reference)
